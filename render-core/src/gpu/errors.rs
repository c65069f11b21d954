//! Catching what wgpu reports instead of letting its default handler panic: error scopes
//! around a piece of GPU work (validation, out-of-memory and internal errors), and a watch
//! on a device that logs errors caught by no scope and notes when the device is lost.

use std::panic::{AssertUnwindSafe, catch_unwind};
use std::sync::{Arc, Mutex, PoisonError};

use super::context::GpuError;

/// Runs `work` inside error scopes for validation, out-of-memory and internal errors on
/// `device` and returns what it returned, or the first error the scopes caught (the work's
/// result is then not to be trusted: a frame drawn with a validation error is garbage).
///
/// The scopes are the calling thread's: run `work` on the thread that calls this.
pub fn catch_errors<T, E: From<GpuError>>(
    device: &wgpu::Device,
    work: impl FnOnce() -> Result<T, E>,
) -> Result<T, E> {
    let out_of_memory = device.push_error_scope(wgpu::ErrorFilter::OutOfMemory);
    let validation = device.push_error_scope(wgpu::ErrorFilter::Validation);
    let internal = device.push_error_scope(wgpu::ErrorFilter::Internal);
    let result = work();
    // Popped in the reverse order of pushing; on native the futures are ready at once.
    let caught = [internal.pop(), validation.pop(), out_of_memory.pop()]
        .into_iter()
        .find_map(pollster::block_on);
    match caught {
        Some(error) => Err(E::from(GpuError::Device(describe(&error)))),
        None => result,
    }
}

/// One line naming the kind of a wgpu error and what it says.
fn describe(error: &wgpu::Error) -> String {
    match error {
        wgpu::Error::OutOfMemory { .. } => "out of GPU memory".to_string(),
        wgpu::Error::Validation { description, .. } => {
            format!("validation error: {}", description.trim())
        }
        wgpu::Error::Internal { description, .. } => {
            format!("internal error: {}", description.trim())
        }
    }
}

/// What a [`DeviceWatch`] saw: why the device was lost, once it was.
#[derive(Debug, Default)]
struct Seen {
    lost: Option<String>,
}

/// A watch on a device: errors no scope caught are logged (not the panic of wgpu's default
/// handler), and a lost device is noted for [`DeviceWatch::lost`].
#[derive(Debug, Clone)]
pub struct DeviceWatch {
    seen: Arc<Mutex<Seen>>,
}

impl DeviceWatch {
    /// Installs the handlers on `device` (replacing any it had).
    pub fn install(device: &wgpu::Device) -> Self {
        let seen = Arc::new(Mutex::new(Seen::default()));
        device.on_uncaptured_error(Arc::new(|error: wgpu::Error| {
            tracing::error!(error = %describe(&error), "GPU error outside any error scope");
        }));
        let lost = seen.clone();
        device.set_device_lost_callback(move |reason, message| {
            let why = format!("{reason:?}: {message}");
            tracing::error!(%why, "GPU device lost");
            lost.lock()
                .unwrap_or_else(PoisonError::into_inner)
                .lost
                .get_or_insert(why);
        });
        Self { seen }
    }

    /// Why the device was lost, once it was.
    pub fn lost(&self) -> Option<String> {
        self.seen
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .lost
            .clone()
    }

    /// Why `device` (the one watched) is lost, once it is: polls it first, so that a loss
    /// wgpu noticed but has not reported yet is seen (after an error, or a panic of wgpu's).
    pub fn poll_lost(&self, device: &wgpu::Device) -> Option<String> {
        if self.lost().is_none() {
            // wgpu may panic polling a device in a bad state: that says it is lost too.
            match catch_unwind(AssertUnwindSafe(|| device.poll(wgpu::PollType::Poll))) {
                Ok(_) => {}
                Err(_) => self.mark_lost("polling the device panicked"),
            }
        }
        self.lost()
    }

    /// Notes the device as lost (for a loss seen another way than the callback, e.g. a
    /// failed poll).
    pub fn mark_lost(&self, why: impl Into<String>) {
        self.seen
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .lost
            .get_or_insert_with(|| why.into());
    }
}

/// Makes wgpu report a validation error on `device` on purpose (a mappable buffer for both
/// reading and writing, which WebGPU forbids): for tests of how callers handle GPU errors.
pub fn provoke_validation_error(device: &wgpu::Device) {
    let _invalid = device.create_buffer(&wgpu::BufferDescriptor {
        label: Some("fault injection: invalid buffer"),
        size: 4,
        usage: wgpu::BufferUsages::MAP_READ | wgpu::BufferUsages::MAP_WRITE,
        mapped_at_creation: false,
    });
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::gpu::GpuContext;

    #[test]
    fn a_validation_error_is_returned_not_panicked() {
        let context = GpuContext::headless().expect("a GPU adapter (lavapipe at least)");
        let _watch = DeviceWatch::install(&context.device);
        let caught: Result<u32, GpuError> = catch_errors(&context.device, || {
            provoke_validation_error(&context.device);
            Ok(7)
        });
        let error = caught.expect_err("the scope caught the error").to_string();
        assert!(error.contains("validation error"), "{error}");
        let clean: Result<u32, GpuError> = catch_errors(&context.device, || Ok(7));
        assert_eq!(clean.expect("no error"), 7);
        // Outside any scope the watch logs it; wgpu's default handler would panic here.
        provoke_validation_error(&context.device);
    }

    #[test]
    fn a_destroyed_device_is_seen_as_lost() {
        let context = GpuContext::headless().expect("a GPU adapter (lavapipe at least)");
        let watch = DeviceWatch::install(&context.device);
        assert_eq!(watch.lost(), None);
        context.device.destroy();
        assert!(
            watch.poll_lost(&context.device).is_some(),
            "the lost callback ran"
        );
    }
}
