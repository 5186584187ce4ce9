//! `--device`: where networks run. `cpu` is burn-flex, in every build; `wgpu` (Vulkan, Metal,
//! DX12) exists in builds with `--features wgpu`.

use soundcheck_nn::Device;

/// The devices this build can run networks on.
pub const DEVICES: &[&str] = if cfg!(feature = "wgpu") {
    &["cpu", "wgpu"]
} else {
    &["cpu"]
};

/// The device `--device NAME` names.
pub fn parse(name: &str) -> Result<Device, String> {
    match name {
        "cpu" => Ok(Device::flex()),
        #[cfg(feature = "wgpu")]
        "wgpu" => Ok(Device::wgpu(soundcheck_nn::DeviceKind::DefaultDevice)),
        #[cfg(not(feature = "wgpu"))]
        "wgpu" => Err("--device wgpu: this build has no GPU backend; build with `cargo build --release -p soundcheck-cli --features wgpu`, or use --device cpu".into()),
        other => Err(format!(
            "--device {other}: expected one of {}",
            DEVICES.join(", ")
        )),
    }
}
