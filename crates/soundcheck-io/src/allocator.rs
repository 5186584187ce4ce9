//! The memory allocator's policy for tensors of tens of MB.
//!
//! glibc's malloc maps every block above its threshold (at most 32 MB, lower until it adapts)
//! straight from the OS and unmaps it on free, and gives the top of its heap back once enough is
//! free. A training step allocates and frees dozens of 26 MB tensors (the seed mask net at batch
//! 16), so each one came back as fresh pages: page faults and the kernel zeroing them took a
//! fifth of the step. Keeping freed blocks in the heap for reuse (as PyTorch's CPU caching does
//! in its own allocator) removes that; the process keeps its peak memory instead of returning
//! it between steps.
//!
//! The policy is the process's, so the program chooses it (the `soundcheck` binary at startup,
//! the network benchmarks before they measure): a library that embeds the network engine keeps
//! the allocator it was given.

/// Keeps freed large blocks in the heap for reuse instead of returning them to the OS. Applies
/// once per process; a no-op where the C library is not glibc.
pub fn keep_freed_memory() {
    #[cfg(all(target_os = "linux", target_env = "gnu"))]
    {
        static ONCE: std::sync::Once = std::sync::Once::new();
        ONCE.call_once(|| {
            // glibc's <malloc.h>.
            const M_TRIM_THRESHOLD: i32 = -1;
            const M_MMAP_MAX: i32 = -4;
            extern "C" {
                fn mallopt(param: i32, value: i32) -> i32;
            }
            // SAFETY: mallopt only changes the allocator's tuning parameters; it is safe to
            // call at any time, from any thread (it takes the arena locks).
            unsafe {
                // Serve large blocks from the heap (no mmap per block), never trim it.
                mallopt(M_MMAP_MAX, 0);
                mallopt(M_TRIM_THRESHOLD, i32::MAX);
            }
        });
    }
}
