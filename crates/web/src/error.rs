//! One error type for every handler: a status, a code for scripts and a
//! message for people. 4xx answers say what was wrong; 5xx answers say
//! only that it was our fault (or, in our own words, that a part is not
//! set up or the store is unreachable), and the detail goes to the log.

use axum::http::header::RETRY_AFTER;
use axum::http::{StatusCode, Uri};
use axum::response::{IntoResponse, Response};
use axum::Json;
use paperboy_app::AppError;
use paperboy_store::StoreError;
use serde_json::json;

#[derive(Debug)]
pub struct ApiError {
    pub status: StatusCode,
    pub code: &'static str,
    /// What the client is told.
    pub message: String,
    /// What only the log is told.
    detail: Option<String>,
    retry_after_secs: Option<u64>,
}

const OUR_FAULT: &str = "Something went wrong on our side; it has been logged.";
const UPSTREAM: &str =
    "A service this instance depends on did not answer; try again in a few minutes.";

impl ApiError {
    fn new(status: StatusCode, code: &'static str, message: impl Into<String>) -> Self {
        ApiError {
            status,
            code,
            message: message.into(),
            detail: None,
            retry_after_secs: None,
        }
    }

    /// A client error with the status an extractor chose (400, 413, 415, 422).
    pub fn client(status: StatusCode, m: impl Into<String>) -> Self {
        let code = match status {
            StatusCode::PAYLOAD_TOO_LARGE => "too_large",
            StatusCode::UNSUPPORTED_MEDIA_TYPE => "unsupported_media_type",
            StatusCode::UNPROCESSABLE_ENTITY => "invalid",
            _ => "bad_request",
        };
        let status = if status.is_client_error() {
            status
        } else {
            StatusCode::BAD_REQUEST
        };
        Self::new(status, code, m)
    }

    pub fn bad_request(m: impl Into<String>) -> Self {
        Self::new(StatusCode::BAD_REQUEST, "bad_request", m)
    }

    pub fn not_found(m: impl Into<String>) -> Self {
        Self::new(StatusCode::NOT_FOUND, "not_found", m)
    }

    pub fn unauthorized(m: impl Into<String>) -> Self {
        Self::new(StatusCode::UNAUTHORIZED, "unauthorized", m)
    }

    pub fn forbidden(m: impl Into<String>) -> Self {
        Self::new(StatusCode::FORBIDDEN, "forbidden", m)
    }

    pub fn unprocessable(m: impl Into<String>) -> Self {
        Self::new(StatusCode::UNPROCESSABLE_ENTITY, "invalid", m)
    }

    /// A part is not set up, or the store cannot be reached (our words).
    pub fn unavailable(m: impl Into<String>) -> Self {
        ApiError {
            retry_after_secs: Some(5),
            ..Self::new(StatusCode::SERVICE_UNAVAILABLE, "unavailable", m)
        }
    }

    /// Our fault: the detail is logged, the client gets a plain sentence.
    pub fn internal(detail: impl Into<String>) -> Self {
        ApiError {
            detail: Some(detail.into()),
            ..Self::new(StatusCode::INTERNAL_SERVER_ERROR, "internal", OUR_FAULT)
        }
    }

    /// Seconds a client should wait before trying again, if it should.
    pub fn retry_after(&self) -> Option<u64> {
        self.retry_after_secs
    }

    /// Logs what the client is not told.
    pub fn log(&self) {
        if let Some(detail) = &self.detail {
            if self.status.is_server_error() {
                tracing::error!(status = %self.status, error = %detail, "request failed");
            } else {
                tracing::warn!(status = %self.status, error = %detail, "request refused");
            }
        }
    }
}

impl std::fmt::Display for ApiError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.message)
    }
}

impl From<AppError> for ApiError {
    fn from(e: AppError) -> Self {
        use StatusCode as S;
        let (status, code, message) = match e {
            AppError::Invalid(m) => (S::BAD_REQUEST, "bad_request", m),
            AppError::Fields(f) => (S::UNPROCESSABLE_ENTITY, "invalid", f.join("; ")),
            AppError::NotFound(m) => (S::NOT_FOUND, "not_found", m),
            // 400 rather than 413: the body was read; one field is too long.
            AppError::TooLarge(m) => (S::BAD_REQUEST, "too_large", m),
            AppError::Conflict(m) => (S::CONFLICT, "conflict", m),
            AppError::Unauthorized(m) => (S::UNAUTHORIZED, "unauthorized", m),
            AppError::Forbidden(m) => (S::FORBIDDEN, "forbidden", m),
            AppError::RateLimited {
                message,
                retry_after_secs,
            } => {
                return ApiError {
                    retry_after_secs: Some(retry_after_secs),
                    ..Self::new(S::TOO_MANY_REQUESTS, "rate_limited", message)
                }
            }
            AppError::NotConfigured(m) | AppError::Unavailable(m) => {
                return ApiError::unavailable(m)
            }
            AppError::Upstream { service, detail } => {
                return ApiError {
                    detail: Some(format!("{service}: {detail}")),
                    ..Self::new(S::BAD_GATEWAY, "upstream", UPSTREAM)
                }
            }
            AppError::Store(e) | AppError::Search(paperboy_app::search::SearchError::Store(e)) => {
                return e.into()
            }
            other => return ApiError::internal(other.to_string()),
        };
        Self::new(status, code, message)
    }
}

impl From<StoreError> for ApiError {
    fn from(e: StoreError) -> Self {
        match e {
            StoreError::NotFound => ApiError::not_found("not found"),
            // An uncaught constraint: the request clashed with stored data.
            StoreError::Conflict { constraint } => ApiError {
                detail: Some(format!("uncaught conflict on {constraint}")),
                ..Self::new(
                    StatusCode::CONFLICT,
                    "conflict",
                    "that conflicts with something already stored",
                )
            },
            StoreError::Unavailable(detail) => ApiError {
                detail: Some(detail),
                ..ApiError::unavailable("the service is unavailable, try again shortly")
            },
            other => ApiError::internal(other.to_string()),
        }
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        self.log();
        let body = Json(json!({ "error": { "code": self.code, "message": self.message } }));
        let mut resp = (self.status, body).into_response();
        if let Some(secs) = self.retry_after_secs {
            resp.headers_mut().insert(RETRY_AFTER, secs.into());
        }
        resp
    }
}

/// Unknown paths: JSON under `/api/`, a page elsewhere.
pub async fn not_found_fallback(uri: Uri) -> Response {
    if uri.path().starts_with("/api/") {
        ApiError::not_found(format!("no such endpoint: {}", uri.path())).into_response()
    } else {
        crate::pages::PageError(ApiError::not_found(format!(
            "There is no page at {}.",
            uri.path()
        )))
        .into_response()
    }
}
