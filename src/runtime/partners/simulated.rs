//! The demo's partners: one HTTP server on 127.0.0.1 that plays the field work system
//! (`POST /field_work`) and the head-end (`POST /head_end`). The couriers reach it exactly as
//! they reach a utility's systems; its answers come back, at their simulated times, through
//! the same record-by-record path as a partner's `POST /v1/inbound`.

use super::carrier::{Parcel, IDEMPOTENCY_KEY};
use super::simulators::Simulators;
use crate::runtime::EngineHandle;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::routing::post;
use axum::{Json, Router};
use std::sync::{Arc, Mutex};
use std::time::Duration;
use tokio::task::JoinHandle;

/// How often the simulated systems look for answers that are due.
const ANSWER_EVERY: Duration = Duration::from_millis(200);

#[derive(Clone)]
struct Shared {
    systems: Arc<Mutex<Simulators>>,
    handle: EngineHandle,
}

/// Starts the simulated partners; returns their base URL and their tasks.
pub fn start(
    handle: EngineHandle,
    settings: &crate::config::Simulators,
) -> std::io::Result<(String, Vec<JoinHandle<()>>)> {
    let listener = std::net::TcpListener::bind("127.0.0.1:0")?;
    listener.set_nonblocking(true)?;
    let url = format!("http://{}", listener.local_addr()?);
    let listener = tokio::net::TcpListener::from_std(listener)?;
    let shared = Shared {
        systems: Arc::new(Mutex::new(Simulators::new(settings))),
        handle,
    };
    let app = Router::new()
        .route("/field_work", post(take))
        .route("/head_end", post(take))
        .with_state(shared.clone());
    let server = tokio::spawn(async move {
        if let Err(err) = axum::serve(listener, app).await {
            tracing::error!("the simulated partners stopped: {err}");
        }
    });
    let answers = tokio::spawn(answer(shared));
    Ok((url, vec![server, answers]))
}

/// Takes one message, as a partner's endpoint does.
async fn take(
    State(shared): State<Shared>,
    headers: HeaderMap,
    Json(parcel): Json<Parcel>,
) -> StatusCode {
    if headers.get(IDEMPOTENCY_KEY).and_then(|v| v.to_str().ok()) != Some(parcel.id.as_str()) {
        return StatusCode::BAD_REQUEST;
    }
    let now = shared.handle.clock().now();
    let mut systems = shared.systems.lock().unwrap_or_else(|p| p.into_inner());
    systems.hand_over(now, &parcel);
    StatusCode::ACCEPTED
}

/// Posts the due answers back, as the systems would.
async fn answer(shared: Shared) {
    let mut ticks = tokio::time::interval(ANSWER_EVERY);
    ticks.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        ticks.tick().await;
        let now = shared.handle.clock().now();
        let due = {
            let mut systems = shared.systems.lock().unwrap_or_else(|p| p.into_inner());
            systems.due(now)
        };
        if due.is_empty() {
            continue;
        }
        let handle = shared.handle.clone();
        let body: Vec<u8> = due
            .iter()
            .flat_map(|m| {
                let mut line = serde_json::to_vec(m).unwrap_or_default();
                line.push(b'\n');
                line
            })
            .collect();
        let done = tokio::task::spawn_blocking(move || {
            super::inbound::receive(&handle, "simulated", &body)
        })
        .await;
        match done {
            Ok(Ok(_)) => {}
            Ok(Err(err)) => {
                if matches!(&err, crate::engine::EngineError::Refused { code, .. } if code == "ENGINE_STOPPED")
                {
                    return;
                }
                tracing::warn!("a simulated answer could not be stored: {err}");
            }
            Err(_) => return,
        }
    }
}
