//! `[device] network = "auto"` / `battery = "auto"`: what the machine says about itself,
//! read from Linux's sysfs. Elsewhere (or when sysfs is unreadable) the answer is the
//! delegation default: online, on mains power.

use std::path::Path;

use rtfs_delegation::{DeviceContext, NetworkStatus};

pub fn detect() -> DeviceContext {
    detect_in(Path::new("/sys/class"))
}

/// `sys_class` is `/sys/class` (a parameter so tests can give a fake tree).
pub fn detect_in(sys_class: &Path) -> DeviceContext {
    DeviceContext {
        network: network(&sys_class.join("net")),
        battery_percent: battery(&sys_class.join("power_supply")),
    }
}

fn read_trimmed(p: &Path) -> Option<String> {
    std::fs::read_to_string(p)
        .ok()
        .map(|s| s.trim().to_string())
}

/// Online when any interface other than loopback is up; offline when sysfs lists
/// interfaces and none is; online when it cannot tell.
fn network(net: &Path) -> NetworkStatus {
    let Ok(entries) = std::fs::read_dir(net) else {
        return NetworkStatus::Online;
    };
    let mut seen = false;
    for e in entries.flatten() {
        if e.file_name() == "lo" {
            continue;
        }
        seen = true;
        if read_trimmed(&e.path().join("operstate")).as_deref() == Some("up") {
            return NetworkStatus::Online;
        }
    }
    if seen {
        NetworkStatus::Offline
    } else {
        NetworkStatus::Online
    }
}

/// The lowest battery charge when no mains/USB supply is online; `None` on mains power or
/// without a battery.
fn battery(ps: &Path) -> Option<u8> {
    let entries = std::fs::read_dir(ps).ok()?;
    let mut lowest: Option<u8> = None;
    for e in entries.flatten() {
        let dir = e.path();
        match read_trimmed(&dir.join("type")).as_deref() {
            Some("Mains") | Some("USB")
                if read_trimmed(&dir.join("online")).as_deref() == Some("1") =>
            {
                return None;
            }
            Some("Battery") => {
                if let Some(pct) = read_trimmed(&dir.join("capacity"))
                    .and_then(|c| c.parse::<u8>().ok())
                    .filter(|p| *p <= 100)
                {
                    lowest = Some(lowest.map_or(pct, |l| l.min(pct)));
                }
            }
            _ => {}
        }
    }
    lowest
}

#[cfg(test)]
mod tests {
    use super::*;

    fn write(p: &Path, text: &str) {
        std::fs::create_dir_all(p.parent().unwrap()).unwrap();
        std::fs::write(p, text).unwrap();
    }

    #[test]
    fn reads_a_sysfs_tree() {
        let root = std::env::temp_dir().join(format!("rtfs-device-detect-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&root);
        write(&root.join("net/lo/operstate"), "unknown\n");
        write(&root.join("net/eth0/operstate"), "down\n");
        write(&root.join("power_supply/BAT0/type"), "Battery\n");
        write(&root.join("power_supply/BAT0/capacity"), "37\n");
        write(&root.join("power_supply/AC/type"), "Mains\n");
        write(&root.join("power_supply/AC/online"), "0\n");
        let d = detect_in(&root);
        assert_eq!(d.network, NetworkStatus::Offline);
        assert_eq!(d.battery_percent, Some(37));
        write(&root.join("net/eth0/operstate"), "up\n");
        write(&root.join("power_supply/AC/online"), "1\n");
        let d = detect_in(&root);
        assert_eq!(d.network, NetworkStatus::Online);
        assert_eq!(d.battery_percent, None);
        std::fs::remove_dir_all(&root).unwrap();
    }
}
