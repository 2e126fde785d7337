use std::collections::HashMap;
use std::sync::Arc;
use std::time::Duration;

use rtfs_mesh_io::{
    FailoverError, GlobalFunctionMesh, HealthConfig, ManualClock, MemoryRegistry, RetryConfig,
    SecurityContext, SelectionStrategy,
};

use crate::common::record;

fn mesh_with(
    providers: &[(&str, f64, f64)],
    strategy: SelectionStrategy,
    health: HealthConfig,
) -> (Arc<ManualClock>, GlobalFunctionMesh) {
    let mem = Arc::new(MemoryRegistry::new());
    mem.put(record("a/b", "1.0.0", providers));
    let clock = Arc::new(ManualClock::new());
    let mesh = GlobalFunctionMesh::builder(mem)
        .with_clock(clock.clone())
        .with_strategy(strategy)
        .with_health_config(health)
        .build();
    (clock, mesh)
}

const THREE: &[(&str, f64, f64)] = &[
    ("cheap-slow", 0.001, 900.0),
    ("mid", 0.01, 300.0),
    ("fast-dear", 0.1, 50.0),
];

#[tokio::test]
async fn lowest_cost_and_fastest_response() {
    let (_c, mesh) = mesh_with(
        THREE,
        SelectionStrategy::LowestCost,
        HealthConfig::default(),
    );
    assert_eq!(
        mesh.select("a/b").await.unwrap().provider().id,
        "cheap-slow"
    );
    let (_c, mesh) = mesh_with(
        THREE,
        SelectionStrategy::FastestResponse,
        HealthConfig::default(),
    );
    assert_eq!(mesh.select("a/b").await.unwrap().provider().id, "fast-dear");
    // Observed latency overrides the advertised one over time.
    for _ in 0..20 {
        mesh.report_success("fast-dear", Duration::from_millis(2000));
        mesh.report_success("mid", Duration::from_millis(20));
    }
    assert_eq!(mesh.select("a/b").await.unwrap().provider().id, "mid");
}

#[tokio::test]
async fn highest_availability_follows_observed_success() {
    let (_c, mesh) = mesh_with(
        THREE,
        SelectionStrategy::HighestAvailability,
        HealthConfig {
            eject_after_failures: 1000,
            ..HealthConfig::default()
        },
    );
    for _ in 0..3 {
        mesh.report_failure("fast-dear");
        mesh.report_failure("cheap-slow");
        mesh.report_success("mid", Duration::from_millis(10));
    }
    assert_eq!(mesh.select("a/b").await.unwrap().provider().id, "mid");
}

#[tokio::test]
async fn load_balance_prefers_fewer_in_flight() {
    let (_c, mesh) = mesh_with(
        &[("a", 0.0, 10.0), ("b", 0.0, 10.0)],
        SelectionStrategy::LoadBalance,
        HealthConfig::default(),
    );
    let first = mesh.select("a/b").await.unwrap();
    let busy = first.provider().id.clone();
    let _guards: Vec<_> = (0..5).map(|_| first.start(mesh.health())).collect();
    for _ in 0..20 {
        let s = mesh.select("a/b").await.unwrap();
        assert_ne!(
            s.provider().id,
            busy,
            "two choices always include the idle one"
        );
    }
    drop(_guards);
    assert_eq!(first.health().in_flight(), 0);
    // Spread with nothing in flight: both get picked.
    let mut seen: HashMap<String, u32> = HashMap::new();
    let (_c, mesh) = mesh_with(
        &[("a", 0.0, 10.0), ("b", 0.0, 10.0), ("c", 0.0, 10.0)],
        SelectionStrategy::LoadBalance,
        HealthConfig::default(),
    );
    for _ in 0..200 {
        let s = mesh.select("a/b").await.unwrap();
        let g = s.start(mesh.health());
        *seen.entry(s.provider().id.clone()).or_default() += 1;
        g.success();
    }
    assert!(seen.len() >= 2, "{seen:?}");
}

#[tokio::test]
async fn custom_strategy_is_a_closure() {
    let strategy = SelectionStrategy::custom(|cands, _ctx| {
        cands
            .iter()
            .position(|c| c.provider.sla_tier == "standard" && c.provider.id == "mid")
    });
    let (_c, mesh) = mesh_with(THREE, strategy, HealthConfig::default());
    assert_eq!(mesh.select("a/b").await.unwrap().provider().id, "mid");
    let bad = SelectionStrategy::custom(|_, _| Some(99));
    let (_c, mesh) = mesh_with(THREE, bad, HealthConfig::default());
    assert!(
        mesh.select("a/b").await.is_err(),
        "out-of-range index is an error"
    );
}

#[tokio::test]
async fn ejection_cap_keeps_providers_available() {
    let cfg = HealthConfig {
        eject_after_failures: 2,
        max_ejected_share: 0.5,
        ..HealthConfig::default()
    };
    let four: &[(&str, f64, f64)] = &[
        ("p1", 0.1, 10.0),
        ("p2", 0.2, 10.0),
        ("p3", 0.3, 10.0),
        ("p4", 0.4, 10.0),
    ];
    let (clock, mesh) = mesh_with(four, SelectionStrategy::LowestCost, cfg);
    for p in ["p1", "p2"] {
        mesh.report_failure(p);
        mesh.report_failure(p);
        clock.advance(Duration::from_millis(1));
    }
    assert_eq!(mesh.select("a/b").await.unwrap().provider().id, "p3");
    // A third ejection would pass the 50 % cap: the most recent ejection is let back in.
    mesh.report_failure("p3");
    mesh.report_failure("p3");
    assert!(mesh.health().is_ejected("p3"));
    assert_eq!(mesh.select("a/b").await.unwrap().provider().id, "p3");
    mesh.report_failure("p4");
    mesh.report_failure("p4");
    let s = mesh.select("a/b").await.unwrap();
    assert!(["p3", "p4"].contains(&s.provider().id.as_str()));
    // A single provider is never ejected away.
    let (_c, solo) = mesh_with(
        &[("only", 0.0, 1.0)],
        SelectionStrategy::LowestCost,
        HealthConfig {
            eject_after_failures: 1,
            ..HealthConfig::default()
        },
    );
    solo.report_failure("only");
    assert!(solo.health().is_ejected("only"));
    assert_eq!(solo.select("a/b").await.unwrap().provider().id, "only");
    // Ejection ends after its back-off.
    clock.advance(Duration::from_secs(31));
    assert_eq!(mesh.select("a/b").await.unwrap().provider().id, "p1");
}

#[tokio::test]
async fn failover_moves_to_the_next_provider_within_budget() {
    let (_c, mesh) = mesh_with(
        THREE,
        SelectionStrategy::LowestCost,
        HealthConfig::default(),
    );
    let ctx = SecurityContext::full();
    let mut tried = Vec::new();
    let out: Result<String, FailoverError<String>> = mesh
        .call_with_failover("a/b", &ctx, |p| {
            tried.push(p.id.clone());
            let id = p.id.clone();
            async move {
                if id == "cheap-slow" {
                    Err("boom".to_string())
                } else {
                    Ok(format!("served by {id}"))
                }
            }
        })
        .await;
    assert_eq!(out.unwrap(), "served by mid");
    assert_eq!(tried, ["cheap-slow", "mid"]);
    let h = mesh.health().get("cheap-slow").unwrap();
    assert_eq!(h.failures(), 1);
    assert_eq!(mesh.health().get("mid").unwrap().successes(), 1);

    let all_fail: Result<(), FailoverError<&str>> = mesh
        .call_with_failover("a/b", &ctx, |_| async { Err("down") })
        .await;
    match all_fail {
        Err(FailoverError::AllFailed { attempts, .. }) => assert_eq!(attempts.len(), 3),
        other => panic!("{other:?}"),
    }
}

#[tokio::test]
async fn retry_budget_limits_retries() {
    let mem = Arc::new(MemoryRegistry::new());
    mem.put(record("a/b", "1.0.0", THREE));
    let mesh = GlobalFunctionMesh::builder(mem)
        .with_retry_config(RetryConfig {
            max_attempts: 3,
            ratio: 0.0,
            reserve: 2.0,
        })
        .with_health_config(HealthConfig {
            eject_after_failures: 1000,
            ..HealthConfig::default()
        })
        .build();
    let ctx = SecurityContext::full();
    let mut calls = 0;
    for _ in 0..3 {
        let r: Result<(), FailoverError<&str>> = mesh
            .call_with_failover("a/b", &ctx, |_| {
                calls += 1;
                async { Err("down") }
            })
            .await;
        assert!(r.is_err());
    }
    // 3 first attempts + only 2 retries from the reserve.
    assert_eq!(calls, 5);
}
