"""Low-level helpers for the numba kernels that numba does not provide.

:func:`prefetch_row` asks the processor to start loading a row of an array into the
cache (LLVM's ``llvm.prefetch`` intrinsic, which compiles to ``prefetcht0`` on x86-64
and ``prfm`` on ARM). Numba has no prefetch of its own and no library offers one for
numba code, hence this small intrinsic. A prefetch is only a hint: it never faults
(even for an address outside the array) and never changes a value, so results do not
depend on it.

:func:`atomic_add` adds to an element of a 2-d integer array as one indivisible
read-modify-write (LLVM's ``atomicrmw add``, ``lock add`` on x86-64), so threads may add
to the same counters at once without losing an addition. Numba's CPU target has no
atomics on arrays (``numba.cuda.atomic`` is for GPUs only). Integer additions commute,
so the counters end the same whatever the order in which threads add.

:func:`fetch_add` is the same indivisible addition on one element of a 1-d integer array,
returning the value before it: threads that take work items from a shared counter with
it each get a different item (dynamic scheduling, see
:func:`impactsim.engine.steps.step_parents`).
"""

from __future__ import annotations

from llvmlite import ir
from numba.core import cgutils, types
from numba.extending import intrinsic


@intrinsic
def prefetch_row(typingctx: object, arr: types.Type, i: types.Type) -> tuple | None:
    """Prefetch (for writing) the cache line holding the start of row ``i`` of ``arr``.

    Usable in numba-compiled code only: ``prefetch_row(status, i)`` with an array of any
    dtype and number of dimensions and an integer row index. The address is the array's
    data pointer plus ``i`` times its first stride; nothing is read or checked.

    Args:
        typingctx: numba's typing context (passed by numba).
        arr: the numba type of the array.
        i: the numba type of the row index.

    Returns:
        The signature and code generator numba compiles the call with, or None (no
        match) for other argument types.
    """
    if not isinstance(arr, types.Array) or not isinstance(i, types.Integer):
        return None

    def codegen(context: object, builder: ir.IRBuilder, sig: object, args: tuple) -> object:
        aryty = sig.args[0]
        ary = context.make_array(aryty)(context, builder, args[0])
        idx = context.cast(builder, args[1], sig.args[1], types.intp)
        stride = cgutils.unpack_tuple(builder, ary.strides, aryty.ndim)[0]
        base = builder.ptrtoint(ary.data, ir.IntType(64))
        i8p = ir.IntType(8).as_pointer()
        ptr = builder.inttoptr(builder.add(base, builder.mul(idx, stride)), i8p)
        i32 = ir.IntType(32)
        fnty = ir.FunctionType(ir.VoidType(), [i8p, i32, i32, i32])
        fn = cgutils.get_or_insert_function(builder.module, fnty, "llvm.prefetch.p0")
        # arguments: address, 1 = for writing, 3 = keep in all cache levels, 1 = data
        builder.call(fn, [ptr, i32(1), i32(3), i32(1)])
        return context.get_dummy_value()

    return types.void(arr, i), codegen


def _integer_array_and_ints(arr: types.Type, ndim: int, ints: tuple) -> bool:
    """Whether ``arr`` is an ``ndim``-d integer array and every one of ``ints`` an integer."""
    return (
        isinstance(arr, types.Array)
        and arr.ndim == ndim
        and isinstance(arr.dtype, types.Integer)
        and all(isinstance(x, types.Integer) for x in ints)
    )


def _atomic_add_at(context: object, builder: ir.IRBuilder, sig: object, args: tuple) -> object:
    """``atomicrmw add`` (relaxed) on ``arr[idx...]``; args are (arr, *indices, value).

    Returns the element's value before the addition.
    """
    aryty = sig.args[0]
    ary = context.make_array(aryty)(context, builder, args[0])
    strides = cgutils.unpack_tuple(builder, ary.strides, aryty.ndim)
    offset = ir.Constant(ir.IntType(64), 0)
    for d in range(aryty.ndim):
        idx = context.cast(builder, args[1 + d], sig.args[1 + d], types.intp)
        offset = builder.add(offset, builder.mul(idx, strides[d]))
    val = context.cast(builder, args[-1], sig.args[-1], aryty.dtype)
    base = builder.ptrtoint(ary.data, ir.IntType(64))
    ptr = builder.inttoptr(builder.add(base, offset), ary.data.type)
    return builder.atomic_rmw("add", ptr, val, "monotonic")


@intrinsic
def atomic_add(
    typingctx: object, arr: types.Type, i: types.Type, k: types.Type, v: types.Type
) -> tuple | None:
    """Add ``v`` to ``arr[i, k]`` atomically (relaxed ordering); ``arr`` a 2-d integer array.

    Usable in numba-compiled code only. No bounds are checked (as numba's own indexing):
    the caller passes valid indices. ``v`` is converted to the array's dtype (wrapping).

    Args:
        typingctx: numba's typing context (passed by numba).
        arr: the numba type of the array.
        i: the numba type of the row index.
        k: the numba type of the column index.
        v: the numba type of the value added.

    Returns:
        The signature and code generator numba compiles the call with, or None (no
        match) for other argument types.
    """
    if not _integer_array_and_ints(arr, 2, (i, k, v)):
        return None

    def codegen(context: object, builder: ir.IRBuilder, sig: object, args: tuple) -> object:
        _atomic_add_at(context, builder, sig, args)
        return context.get_dummy_value()

    return types.void(arr, i, k, v), codegen


@intrinsic
def fetch_add(typingctx: object, arr: types.Type, i: types.Type, v: types.Type) -> tuple | None:
    """Add ``v`` to ``arr[i]`` atomically and return the value before (relaxed ordering).

    Usable in numba-compiled code only; ``arr`` a 1-d integer array, no bounds checked.
    ``v`` is converted to the array's dtype (wrapping). Relaxed ordering suffices for a
    work counter: the items' data is published by the parallel loop's end, not by the
    counter.

    Args:
        typingctx: numba's typing context (passed by numba).
        arr: the numba type of the array.
        i: the numba type of the index.
        v: the numba type of the value added.

    Returns:
        The signature and code generator numba compiles the call with, or None (no
        match) for other argument types.
    """
    if not _integer_array_and_ints(arr, 1, (i, v)):
        return None
    return arr.dtype(arr, i, v), _atomic_add_at
