//! The plugins' allocator inside the component: small blocks by size class.
//!
//! A mapping allocates a handful of small blocks per record (the record's strings as the host
//! hands them over, the key and value it writes, the output list) and frees them all when the
//! batch is done. The component's default allocator (dlmalloc) made that a measurable part of a
//! record's time (docs/benchmarks.md); here a small block is taken from and given back to a free
//! list of its size class, a few instructions each way. Blocks of up to [`LARGEST_CLASS`] bytes come from chunks of the backing
//! allocator and are kept for reuse, never handed back: a plugin's memory stays at its peak of
//! small blocks (the host's memory limit still bounds it). Larger blocks go to the backing
//! allocator as they are.

use std::alloc::{GlobalAlloc, Layout};
use std::cell::UnsafeCell;
use std::ptr;

/// The smallest class, 16 bytes (room for the free list's link, and the component's largest
/// scalar alignment).
const SMALLEST_CLASS_SHIFT: usize = 4;
/// Classes of 16, 32, ..., 2048 bytes.
const CLASSES: usize = 8;
pub const LARGEST_CLASS: usize = 1 << (SMALLEST_CLASS_SHIFT + CLASSES - 1);
/// What a class takes from the backing allocator at a time.
const CHUNK_BYTES: usize = 64 << 10;

/// Size classes over a backing allocator (`std::alloc::System` in the component).
pub struct SizeClasses<A> {
    backing: A,
    classes: UnsafeCell<[Class; CLASSES]>,
}

#[derive(Clone, Copy)]
struct Class {
    /// The first free block; each free block holds the address of the next in its first bytes.
    free: *mut u8,
    /// The unused rest of the class's current chunk.
    next: *mut u8,
    end: *mut u8,
}

const EMPTY: Class = Class { free: ptr::null_mut(), next: ptr::null_mut(), end: ptr::null_mut() };

// SAFETY: a component instance runs on one thread (wasm32 without the threads proposal), so the
// free lists are never touched concurrently.
#[cfg(all(target_arch = "wasm32", not(target_feature = "atomics")))]
unsafe impl<A: Sync> Sync for SizeClasses<A> {}

impl<A> SizeClasses<A> {
    pub const fn new(backing: A) -> SizeClasses<A> {
        SizeClasses { backing, classes: UnsafeCell::new([EMPTY; CLASSES]) }
    }
}

/// The class of a layout (a block of a class is aligned to its size), or none for a large one.
fn class_of(layout: Layout) -> Option<usize> {
    let size = layout.size().max(layout.align()).max(1 << SMALLEST_CLASS_SHIFT);
    (size <= LARGEST_CLASS).then(|| size.next_power_of_two().trailing_zeros() as usize - SMALLEST_CLASS_SHIFT)
}

fn class_bytes(class: usize) -> usize {
    1 << (class + SMALLEST_CLASS_SHIFT)
}

// SAFETY: every block handed out is `class_bytes` long, aligned to that size (chunks are aligned to
// the largest class and cut in multiples of the class), and given out once until it is freed.
unsafe impl<A: GlobalAlloc> GlobalAlloc for SizeClasses<A> {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        let Some(index) = class_of(layout) else {
            // SAFETY: the caller's layout, passed on.
            return unsafe { self.backing.alloc(layout) };
        };
        // SAFETY: one thread (see `Sync`), and no reference to the classes outlives this call.
        let class = unsafe { &mut (*self.classes.get())[index] };
        if !class.free.is_null() {
            let block = class.free;
            // SAFETY: a free block holds the next free block's address, written by `dealloc`.
            class.free = unsafe { block.cast::<*mut u8>().read() };
            return block;
        }
        let bytes = class_bytes(index);
        if class.next == class.end {
            // SAFETY: a non-zero size and a power-of-two alignment.
            let chunk = unsafe { self.backing.alloc(Layout::from_size_align_unchecked(CHUNK_BYTES, LARGEST_CLASS)) };
            if chunk.is_null() {
                return chunk;
            }
            class.next = chunk;
            // SAFETY: the end of the chunk just allocated.
            class.end = unsafe { chunk.add(CHUNK_BYTES) };
        }
        let block = class.next;
        // SAFETY: chunks are whole multiples of every class, so the block ends within the chunk.
        class.next = unsafe { block.add(bytes) };
        block
    }

    unsafe fn dealloc(&self, block: *mut u8, layout: Layout) {
        match class_of(layout) {
            // SAFETY: a large block came from the backing allocator with this layout.
            None => unsafe { self.backing.dealloc(block, layout) },
            Some(index) => {
                // SAFETY: one thread; the block is at least 16 bytes and aligned to them, and no
                // longer used by the caller.
                unsafe {
                    let class = &mut (*self.classes.get())[index];
                    block.cast::<*mut u8>().write(class.free);
                    class.free = block;
                }
            }
        }
    }

    unsafe fn realloc(&self, block: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        // SAFETY: the caller guarantees `new_size`, rounded up to the alignment, fits an isize.
        let new_layout = unsafe { Layout::from_size_align_unchecked(new_size, layout.align()) };
        match (class_of(layout), class_of(new_layout)) {
            // SAFETY: a large block came from the backing allocator with this layout.
            (None, None) => unsafe { self.backing.realloc(block, layout, new_size) },
            // The block already holds the new size.
            (Some(old), Some(new)) if old == new => block,
            _ => {
                // SAFETY: a fresh block of the new layout; the old one is valid for its size.
                unsafe {
                    let moved = self.alloc(new_layout);
                    if !moved.is_null() {
                        ptr::copy_nonoverlapping(block, moved, layout.size().min(new_size));
                        self.dealloc(block, layout);
                    }
                    moved
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::alloc::System;

    fn layout(size: usize, align: usize) -> Layout {
        Layout::from_size_align(size, align).unwrap()
    }

    #[test]
    fn a_layout_takes_the_smallest_class_that_holds_its_size_and_alignment() {
        assert_eq!(class_of(layout(1, 1)), Some(0));
        assert_eq!(class_of(layout(16, 8)), Some(0));
        assert_eq!(class_of(layout(17, 1)), Some(1));
        assert_eq!(class_of(layout(8, 64)), Some(2));
        assert_eq!(class_of(layout(LARGEST_CLASS, 1)), Some(CLASSES - 1));
        assert_eq!(class_of(layout(LARGEST_CLASS + 1, 1)), None);
    }

    #[test]
    fn blocks_are_aligned_distinct_and_reused_after_free() {
        let heap = SizeClasses::new(System);
        unsafe {
            let mut blocks = Vec::new();
            // More blocks than one chunk holds, of every class and a large size.
            for i in 0..10_000 {
                let l = layout(1 + (i * 37) % (LARGEST_CLASS + 100), 1 << (i % 5));
                let b = heap.alloc(l);
                assert!(!b.is_null());
                assert_eq!(b as usize % l.align(), 0);
                ptr::write_bytes(b, (i % 251) as u8, l.size());
                blocks.push((b, l, (i % 251) as u8));
            }
            // Nothing written to one block reached another, and no two blocks share a byte.
            for &(b, l, fill) in &blocks {
                assert!(std::slice::from_raw_parts(b, l.size()).iter().all(|&x| x == fill));
            }
            let mut spans: Vec<(usize, usize)> = blocks.iter().map(|&(b, l, _)| (b as usize, b as usize + l.size())).collect();
            spans.sort();
            assert!(spans.windows(2).all(|w| w[0].1 <= w[1].0), "two blocks overlap");
            for (b, l, _) in blocks.drain(..) {
                heap.dealloc(b, l);
            }
            // The last block freed of a class is the next one handed out.
            let l = layout(24, 8);
            let (a, b) = (heap.alloc(l), heap.alloc(l));
            assert_ne!(a, b);
            heap.dealloc(a, l);
            assert_eq!(heap.alloc(l), a);
        }
    }

    #[test]
    fn realloc_keeps_the_contents_across_classes_and_into_large_blocks() {
        let heap = SizeClasses::new(System);
        unsafe {
            let mut l = layout(10, 1);
            let mut b = heap.alloc(l);
            ptr::copy_nonoverlapping(b"0123456789".as_ptr(), b, 10);
            for new_size in [12, 16, 100, 2048, 5000, 300, 10] {
                let moved = heap.realloc(b, l, new_size);
                assert!(!moved.is_null());
                assert_eq!(std::slice::from_raw_parts(moved, 10), b"0123456789", "to {new_size}");
                b = moved;
                l = layout(new_size, 1);
            }
            // Within a class, the block stays where it is.
            assert_eq!(heap.realloc(b, l, 14), b);
            heap.dealloc(b, layout(14, 1));
        }
    }
}
