//! Causal Chain benchmarks: appending 10 000 entries to a file (no fsync, and fsync every
//! 100), verifying a 10 000-entry file, and an inclusion proof in it.
//!
//! Run: `CARGO_TARGET_DIR=/work/target-chain cargo bench -p rtfs-chain`

use std::hint::black_box;
use std::path::{Path, PathBuf};

use criterion::{BatchSize, Criterion, Throughput, criterion_group, criterion_main};
use rtfs_chain::{
    Action, ActionType, ChainConfig, ChainWriter, DelegationInfo, ExecTarget, FsyncPolicy,
};

const N: u64 = 10_000;

fn action(i: u64) -> Action {
    Action::new(
        ActionType::capability(format!("ccos.bench/op-{}", i % 7)),
        DelegationInfo::decided(
            "StaticEngine",
            vec!["local".into(), "gpt4o".into()],
            ExecTarget::RemoteModel { id: "gpt4o".into() },
        ),
    )
    .with_inputs(format!("[{i}]").as_bytes(), None)
    .with_output(format!("{}", i * 2).as_bytes(), None)
    .with_timing(1_764_000_000_000_000 + i, 250)
}

fn scratch(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("rtfs-chain-bench-{}", std::process::id()));
    let _ = std::fs::create_dir_all(&dir);
    dir.join(name)
}

fn write_chain(path: &Path, n: u64, fsync: FsyncPolicy) {
    let _ = std::fs::remove_file(path);
    let config = ChainConfig {
        fsync,
        keep_raw: false,
    };
    let mut w = ChainWriter::open(path, config).expect("open bench chain");
    for i in 0..n {
        w.append(action(i)).expect("append");
    }
    w.sync().expect("sync");
}

fn bench(c: &mut Criterion) {
    let mut g = c.benchmark_group("chain");
    g.sample_size(10);
    g.throughput(Throughput::Elements(N));
    let actions: Vec<Action> = (0..N).map(action).collect();
    let append_path = scratch("append.chain");
    for (name, fsync) in [
        ("append_10k_fsync_on_close", FsyncPolicy::OnClose),
        ("append_10k_fsync_every_100", FsyncPolicy::EveryN(100)),
    ] {
        g.bench_function(name, |b| {
            b.iter_batched(
                || {
                    let _ = std::fs::remove_file(&append_path);
                    actions.clone()
                },
                |actions| {
                    let config = ChainConfig {
                        fsync,
                        keep_raw: false,
                    };
                    let mut w = ChainWriter::open(&append_path, config).expect("open");
                    for a in actions {
                        w.append(a).expect("append");
                    }
                    w.sync().expect("sync");
                    black_box(w.root())
                },
                BatchSize::PerIteration,
            )
        });
    }
    let path = scratch("verify.chain");
    write_chain(&path, N, FsyncPolicy::OnClose);
    g.bench_function("verify_10k", |b| {
        b.iter(|| {
            let r = rtfs_chain::verify(&path).expect("verify");
            assert!(r.is_valid());
            black_box(r.root)
        })
    });
    g.bench_function("reopen_10k", |b| {
        b.iter(|| {
            black_box(
                ChainWriter::open(&path, ChainConfig::default())
                    .expect("open")
                    .root(),
            )
        })
    });
    g.throughput(Throughput::Elements(1));
    g.bench_function("inclusion_proof_in_10k", |b| {
        b.iter(|| black_box(rtfs_chain::proof(&path, 4_321).expect("proof")))
    });
    let p = rtfs_chain::proof(&path, 4_321).expect("proof");
    g.bench_function("verify_inclusion_proof", |b| {
        b.iter(|| black_box(p.verify()))
    });
    g.finish();
    let _ = std::fs::remove_dir_all(path.parent().unwrap_or(Path::new(".")));
}

criterion_group!(benches, bench);
criterion_main!(benches);
