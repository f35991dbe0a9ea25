//! Reference function for `scripts/bench-insitu`: a bare `lambda_runtime` function that
//! reads the event and answers a fixed Allow. What it costs per invocation is the
//! runtime's own cost, the floor under any Lambda authorizer.

#![allow(missing_docs)]

#[path = "reference.rs"]
mod reference;

#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn main() -> Result<(), lambda_runtime::Error> {
    reference::run(
        |event: lambda_runtime::LambdaEvent<reference::Event>| async move {
            Ok(event.payload.answer(true))
        },
    )
}
