//! How the API says no: a status and `{"error": {"code": …, "message": …}}`, for the
//! engine's refusals and for everything a client can get wrong on the wire (malformed JSON, an
//! unknown call, a body too large, a missing permission, a stalled request).

use crate::engine::EngineError;
use axum::body::Bytes;
use axum::extract::{FromRequest, FromRequestParts, Request};
use axum::http::request::Parts;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use serde::de::DeserializeOwned;

/// The largest request body accepted (an import of a few hundred thousand records).
pub const MAX_BODY: usize = 64 * 1024 * 1024;

/// An error answer.
#[derive(Debug)]
pub struct ApiError {
    /// The HTTP status.
    pub status: StatusCode,
    /// The machine-readable code.
    pub code: String,
    /// What went wrong and what to do.
    pub message: String,
}

impl ApiError {
    /// An error with a status, code and message.
    pub fn new(status: StatusCode, code: &str, message: impl Into<String>) -> ApiError {
        ApiError {
            status,
            code: code.to_string(),
            message: message.into(),
        }
    }

    /// A request the server could not read.
    pub fn bad_request(message: impl Into<String>) -> ApiError {
        ApiError::new(StatusCode::BAD_REQUEST, "BAD_INPUT", message)
    }
}

impl From<EngineError> for ApiError {
    fn from(err: EngineError) -> ApiError {
        let status = match &err {
            EngineError::Refused { code, .. } if code == "PERMISSION_DENIED" => {
                StatusCode::FORBIDDEN
            }
            EngineError::Refused { code, .. } if code == "READ_ONLY" => StatusCode::FORBIDDEN,
            EngineError::Refused { .. } => StatusCode::CONFLICT,
            EngineError::BadInput(_) => StatusCode::BAD_REQUEST,
            EngineError::Store(_) => StatusCode::SERVICE_UNAVAILABLE,
            EngineError::Corrupt(_) | EngineError::Server { .. } => {
                StatusCode::INTERNAL_SERVER_ERROR
            }
        };
        ApiError::new(status, err.code(), err.to_string())
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let body = serde_json::json!({ "error": { "code": self.code, "message": self.message } });
        (self.status, axum::Json(body)).into_response()
    }
}

/// A JSON request body, read whole (up to [`MAX_BODY`]); an empty body reads as `{}`, and a
/// bad one is answered with the field and position that are wrong.
pub struct JsonBody<T>(pub T);

impl<S: Send + Sync, T: DeserializeOwned> FromRequest<S> for JsonBody<T> {
    type Rejection = ApiError;

    async fn from_request(request: Request, state: &S) -> Result<Self, ApiError> {
        let bytes = RawBody::from_request(request, state).await?.0;
        let bytes: &[u8] = if bytes.iter().all(u8::is_ascii_whitespace) {
            b"{}"
        } else {
            &bytes
        };
        let mut json = serde_json::Deserializer::from_slice(bytes);
        serde_path_to_error::deserialize(&mut json)
            .map(JsonBody)
            .map_err(|e| {
                let path = e.path().to_string();
                let inner = e.into_inner();
                let at = format!("line {} column {}", inner.line(), inner.column());
                let field = if path == "." {
                    String::new()
                } else {
                    format!(" at field `{path}`")
                };
                ApiError::bad_request(format!("request body{field} ({at}): {inner}"))
            })
    }
}

/// A request body as bytes (JSON Lines for import and inbound), up to [`MAX_BODY`].
pub struct RawBody(pub Bytes);

impl<S: Send + Sync> FromRequest<S> for RawBody {
    type Rejection = ApiError;

    async fn from_request(request: Request, _state: &S) -> Result<Self, ApiError> {
        let limited = axum::body::to_bytes(request.into_body(), MAX_BODY).await;
        limited.map(RawBody).map_err(|err| {
            let text = format!("{err}");
            if text.contains("length limit") {
                ApiError::new(
                    StatusCode::PAYLOAD_TOO_LARGE,
                    "TOO_LARGE",
                    format!(
                        "the request body is larger than {} MiB; split the file",
                        MAX_BODY / 1024 / 1024
                    ),
                )
            } else {
                ApiError::bad_request(format!("the request body could not be read: {text}"))
            }
        })
    }
}

/// Query-string parameters; a bad one is answered with its name.
pub struct Params<T>(pub T);

impl<S: Send + Sync, T: DeserializeOwned> FromRequestParts<S> for Params<T> {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, _state: &S) -> Result<Self, ApiError> {
        let query = parts.uri.query().unwrap_or_default();
        let pairs = form_urlencoded::parse(query.as_bytes());
        let decoder = serde_urlencoded::Deserializer::new(pairs);
        serde_path_to_error::deserialize(decoder)
            .map(Params)
            .map_err(|e| {
                let path = e.path().to_string();
                ApiError::bad_request(format!("query parameter `{path}`: {}", e.into_inner()))
            })
    }
}
