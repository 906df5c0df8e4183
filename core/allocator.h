// richlazy/core/allocator.h: how the process allocates memory while it trains.
#pragma once

namespace richlazy {

/// Keeps freed memory in the process for reuse instead of returning it to the system.
/// LibTorch's CPU allocator asks malloc afresh for every tensor; glibc serves blocks of more
/// than 128 KiB with mmap and unmaps them on free, so a pack of networks whose activations
/// take a few MiB paid page faults on every buffer of every iteration (measured: a pack of 64
/// networks of 64 units trained 1.35x slower). Raises glibc's mmap and trim thresholds to
/// their limits; a no-op elsewhere. Call once, before training.
void keep_freed_memory();

}  // namespace richlazy
