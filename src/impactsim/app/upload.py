"""A scenario file picker: a "choose file" button that also takes a dropped file.

Solara's ``FileDrop`` takes dropped files only; planners expect a button that opens the
file dialog (and a test can set a file on its ``<input type="file">``). This widget keeps
Solara's upload protocol (the browser sends the file in chunks on request) and adds the
input element.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import Any, cast

import solara
import traitlets
from solara.components.file_drop import FileDropZone, FileInfo

TEMPLATE = """
<template>
  <div ref="dropzone" class="impactsim-upload">
    <label class="v-btn v-btn--outlined theme--light v-size--default primary--text upload-button">
      <input type="file" accept=".yaml,.yml,text/yaml" style="display:none"
             data-testid="scenario-upload" @change="picked" />
      {{ label }}
    </label>
    <span class="upload-name" v-if="file_info && file_info.length > 0">{{ file_info[0].name }}</span>
    <span class="upload-hint" v-else>{{ hint }}</span>
  </div>
</template>
<script>
module.exports = {
  mounted() {
    this.chunk_size = 1024 * 1024;
    this.$refs.dropzone.addEventListener('dragover', event => event.preventDefault());
    this.$refs.dropzone.addEventListener('drop', event => {
      event.preventDefault();
      this.take([...event.dataTransfer.files]);
    });
  },
  methods: {
    picked(event) { this.take([...event.target.files]); event.target.value = ''; },
    take(files) {
      this.native_file_info = files.slice(0, 1);
      this.file_info = this.native_file_info.map(({name, size}) => ({name, isFile: true, size}));
    },
    jupyter_clear() { this.native_file_info = []; this.file_info = []; },
    jupyter_read(chunk) {
      const {id, file_index, offset, length} = chunk;
      let to_do = length;
      let sub_offset = offset;
      (async () => {
        while (to_do > 0) {
          const sub_length = Math.min(to_do, this.chunk_size);
          const file = this.native_file_info[file_index];
          const buff = await file.slice(sub_offset, sub_offset + sub_length).arrayBuffer();
          this.upload({id, file_index, offset: sub_offset, length: sub_length}, [buff]);
          to_do -= sub_length;
          sub_offset += sub_length;
        }
      })();
    }
  }
}
</script>
<style id="impactsim-upload">
.impactsim-upload { border: 1px dashed #8c959f; border-radius: 4px; padding: 8px; margin: 6px 0; }
.impactsim-upload .upload-name, .impactsim-upload .upload-hint { margin-left: 10px; color: #57606a; }
</style>
"""


class ScenarioFileInput(FileDropZone):
    """Solara's drop zone with a file button (template above)."""

    template_file = None  # type: ignore[assignment]
    template = traitlets.Unicode(TEMPLATE).tag(sync=True)  # type: ignore[assignment]
    hint = traitlets.Unicode().tag(sync=True)
    multiple = traitlets.Bool(False).tag(sync=True)


@solara.component
def ScenarioUpload(label: str, hint: str, on_file: Callable[[str, bytes], None]) -> Any:
    """A file button; ``on_file(name, data)`` is called in a thread with the file's bytes."""
    file_info, set_file_info = solara.use_state(cast(Any, None))
    wired, set_wired = solara.use_state(cast(list[FileInfo] | None, None))
    element = ScenarioFileInput.element(  # type: ignore[attr-defined]
        label=label, hint=hint, on_file_info=set_file_info
    )

    def wire() -> None:
        if not file_info:
            return
        real = cast(ScenarioFileInput, solara.get_widget(element))
        real.version += 1
        real.reset_stats()
        set_wired(cast(list[FileInfo], real.get_files()))

    solara.use_effect(wire, [file_info])

    def read(cancel: threading.Event) -> None:
        if wired:
            on_file(wired[0]["name"], wired[0]["file_obj"].read())

    result = solara.use_thread(read, [wired])
    if result.error:
        raise result.error
    return element
