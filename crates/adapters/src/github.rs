//! GitHub's REST API as the star tracker's source.

use async_trait::async_trait;
use paperboy_app::stars::{Answer, RateLimit, StarError, StarSource};
use paperboy_github::{GitHub, GitHubError};

/// Star counts from GitHub (`GET /repos/{owner}/{name}`, conditional).
pub struct GitHubStars(pub GitHub);

#[async_trait]
impl StarSource for GitHubStars {
    async fn repo(
        &self,
        url: &str,
        etag: Option<&str>,
        now: i64,
    ) -> (Result<Answer, StarError>, RateLimit) {
        let (answer, limit) = self.0.repo(url, etag, now).await;
        let answer = match answer {
            Ok(paperboy_github::Answer::Stars {
                stars,
                etag,
                html_url,
                moved,
            }) => Ok(Answer::Stars {
                stars,
                etag,
                html_url,
                moved,
            }),
            Ok(paperboy_github::Answer::NotModified) => Ok(Answer::NotModified),
            Ok(paperboy_github::Answer::Gone) => Ok(Answer::Gone),
            Err(GitHubError::RateLimited { until }) => Err(StarError::RateLimited { until }),
            Err(e @ GitHubError::Transient { .. }) => Err(StarError::Transient(e.to_string())),
            Err(e) => Err(StarError::Refused(e.to_string())),
        };
        let limit = RateLimit {
            limit: limit.limit,
            remaining: limit.remaining,
            reset_at: limit.reset_at,
        };
        (answer, limit)
    }
}
