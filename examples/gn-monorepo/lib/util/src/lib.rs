//! Shared helpers. Edition 2018: `crate::` paths, `dyn Trait`, `async fn`,
//! and extern crates in scope without `extern crate`.

pub mod text;

use std::future::Future;
use std::pin::Pin;
use std::task::{Context, Poll, RawWaker, RawWakerVTable, Waker};

/// Something that can be rendered as a line of text.
pub trait Render {
    fn render(&self) -> String;
}

/// Renders a list of trait objects (edition 2018 `dyn` syntax).
pub fn render_all(items: &[Box<dyn Render>]) -> Vec<String> {
    items.iter().map(|i| i.render()).collect()
}

/// Stable identifier for a name, via the 2015-edition `fnv` crate.
pub fn stable_id(name: &str) -> String {
    fnv::hash_str(name)
}

/// Inverse of [`stable_id`].
pub fn parse_id(id: &str) -> Option<u64> {
    fnv::parse_hash(id).ok()
}

/// `async fn` (a keyword since edition 2018).
pub async fn checksum(data: Vec<u8>) -> u64 {
    fnv::hash(&data)
}

/// Minimal executor: polls a future that never returns Pending.
pub fn block_on<F: Future>(fut: F) -> F::Output {
    fn noop_raw() -> RawWaker {
        fn clone(_: *const ()) -> RawWaker {
            noop_raw()
        }
        fn noop(_: *const ()) {}
        static VTABLE: RawWakerVTable = RawWakerVTable::new(clone, noop, noop, noop);
        RawWaker::new(std::ptr::null(), &VTABLE)
    }
    let waker = unsafe { Waker::from_raw(noop_raw()) };
    let mut cx = Context::from_waker(&waker);
    let mut fut = Box::pin(fut);
    loop {
        if let Poll::Ready(v) = Pin::as_mut(&mut fut).poll(&mut cx) {
            return v;
        }
    }
}

pub use crate::text::title_case;
