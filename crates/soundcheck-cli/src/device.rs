//! `--device`: where networks run. `cpu` is burn-flex, in every build; `wgpu` (Vulkan, Metal,
//! DX12) exists in builds with `--features wgpu`.

use std::sync::OnceLock;

use soundcheck_nn::Device;

static SELECTED: OnceLock<Device> = OnceLock::new();

/// The devices this build can run networks on.
pub const DEVICES: &[&str] = if cfg!(feature = "wgpu") {
    &["cpu", "wgpu"]
} else {
    &["cpu"]
};

/// Chooses the device for the whole run (once, from the command line).
pub fn select(name: &str) -> Result<(), String> {
    let device = match name {
        "cpu" => Device::flex(),
        #[cfg(feature = "wgpu")]
        "wgpu" => Device::wgpu(soundcheck_nn::DeviceKind::DefaultDevice),
        #[cfg(not(feature = "wgpu"))]
        "wgpu" => {
            return Err("--device wgpu: this build has no GPU backend; build with `cargo build --release -p soundcheck-cli --features wgpu`, or use --device cpu".into())
        }
        other => {
            return Err(format!(
                "--device {other}: expected one of {}",
                DEVICES.join(", ")
            ))
        }
    };
    let _ = SELECTED.set(device);
    Ok(())
}

/// The device chosen with `--device` (the CPU when none was).
pub fn current() -> Device {
    SELECTED.get_or_init(Device::flex).clone()
}
