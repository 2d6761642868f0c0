/* libempty.so: a shared library with nothing in it. overhead.sh preloads
 * it as the control for what loading any preloaded library costs an
 * exec'd child, whatever the library does. */
int vforkshim_bench_empty;
