"""Engine: compiled scenario arrays, numba kernels of one time step, and the time loop."""
