//! One error type for every handler. 4xx answers say what was wrong; 5xx
//! answers say only that it was our fault (or that a part is not set up,
//! in our own words), and the cause goes to the log.

use axum::http::header::RETRY_AFTER;
use axum::http::{StatusCode, Uri};
use axum::response::{IntoResponse, Response};
use axum::Json;
use paperboy_app::AppError;
use paperboy_store::StoreError;
use serde_json::json;

#[derive(Debug, thiserror::Error)]
pub enum ApiError {
    #[error("{0}")]
    BadRequest(String),
    #[error("{0}")]
    NotFound(String),
    #[error("{0}")]
    Conflict(String),
    #[error("{0}")]
    Unauthorized(String),
    #[error("{0}")]
    Forbidden(String),
    #[error("{0}")]
    Unprocessable(String),
    #[error("{message}")]
    TooManyRequests {
        message: String,
        retry_after_secs: u64,
    },
    /// A part of this instance is not set up, or the store cannot be
    /// reached: the message is ours and may be shown.
    #[error("{0}")]
    Unavailable(String),
    /// A server we depend on failed; the detail is logged, not shown.
    #[error("{0}")]
    BadGateway(String),
    /// Our fault; the detail is logged, not shown.
    #[error("{0}")]
    Internal(String),
}

impl ApiError {
    pub fn status_and_code(&self) -> (StatusCode, &'static str) {
        match self {
            ApiError::BadRequest(_) => (StatusCode::BAD_REQUEST, "bad_request"),
            ApiError::NotFound(_) => (StatusCode::NOT_FOUND, "not_found"),
            ApiError::Conflict(_) => (StatusCode::CONFLICT, "conflict"),
            ApiError::Unauthorized(_) => (StatusCode::UNAUTHORIZED, "unauthorized"),
            ApiError::Forbidden(_) => (StatusCode::FORBIDDEN, "forbidden"),
            ApiError::Unprocessable(_) => (StatusCode::UNPROCESSABLE_ENTITY, "invalid"),
            ApiError::TooManyRequests { .. } => (StatusCode::TOO_MANY_REQUESTS, "rate_limited"),
            ApiError::Unavailable(_) => (StatusCode::SERVICE_UNAVAILABLE, "unavailable"),
            ApiError::BadGateway(_) => (StatusCode::BAD_GATEWAY, "upstream"),
            ApiError::Internal(_) => (StatusCode::INTERNAL_SERVER_ERROR, "internal"),
        }
    }

    /// The message a person may see.
    pub fn public_message(&self) -> String {
        match self {
            ApiError::Internal(_) => {
                "Something went wrong on our side; it has been logged.".to_string()
            }
            ApiError::BadGateway(_) => {
                "A service this instance depends on did not answer; try again in a few minutes."
                    .to_string()
            }
            other => other.to_string(),
        }
    }

    fn retry_after(&self) -> Option<u64> {
        match self {
            ApiError::TooManyRequests {
                retry_after_secs, ..
            } => Some(*retry_after_secs),
            ApiError::Unavailable(_) => Some(5),
            _ => None,
        }
    }

    /// Logs what the client is not told.
    pub fn log(&self) {
        match self {
            ApiError::Internal(e) => tracing::error!(error = %e, "request failed"),
            ApiError::BadGateway(e) => tracing::warn!(error = %e, "upstream failed"),
            ApiError::Unavailable(e) => tracing::warn!(error = %e, "unavailable"),
            _ => {}
        }
    }
}

impl From<AppError> for ApiError {
    fn from(e: AppError) -> Self {
        match e {
            AppError::Invalid(m) => ApiError::BadRequest(m),
            AppError::Fields(f) => ApiError::Unprocessable(f.join("; ")),
            AppError::NotFound(m) => ApiError::NotFound(m),
            AppError::Conflict(m) => ApiError::Conflict(m),
            AppError::Unauthorized(m) => ApiError::Unauthorized(m),
            AppError::Forbidden(m) => ApiError::Forbidden(m),
            AppError::RateLimited {
                message,
                retry_after_secs,
            } => ApiError::TooManyRequests {
                message,
                retry_after_secs,
            },
            AppError::NotConfigured(m) => ApiError::Unavailable(m),
            AppError::Upstream { service, detail } => {
                ApiError::BadGateway(format!("{service}: {detail}"))
            }
            AppError::Store(e) => e.into(),
            other => ApiError::Internal(other.to_string()),
        }
    }
}

impl From<StoreError> for ApiError {
    fn from(e: StoreError) -> Self {
        match e {
            StoreError::NotFound => ApiError::NotFound("not found".into()),
            // An uncaught constraint: the request clashed with stored data.
            StoreError::Conflict { constraint } => {
                tracing::warn!(%constraint, "uncaught store conflict");
                ApiError::Conflict("that conflicts with something already stored".into())
            }
            StoreError::Unavailable(detail) => {
                tracing::warn!(%detail, "store unavailable");
                ApiError::Unavailable("the service is unavailable, try again shortly".into())
            }
            other => ApiError::Internal(other.to_string()),
        }
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        self.log();
        let (status, code) = self.status_and_code();
        let body = Json(json!({ "error": { "code": code, "message": self.public_message() } }));
        let mut resp = (status, body).into_response();
        if let Some(secs) = self.retry_after() {
            resp.headers_mut().insert(RETRY_AFTER, secs.into());
        }
        resp
    }
}

/// Unknown paths: JSON under `/api/`, a page elsewhere.
pub async fn not_found_fallback(uri: Uri) -> Response {
    if uri.path().starts_with("/api/") {
        ApiError::NotFound(format!("no such endpoint: {}", uri.path())).into_response()
    } else {
        crate::pages::PageError(ApiError::NotFound(format!(
            "There is no page at {}.",
            uri.path()
        )))
        .into_response()
    }
}
