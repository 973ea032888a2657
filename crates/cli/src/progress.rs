//! Progress bars for long work; hidden when stderr is not a terminal.

use indicatif::{ProgressBar, ProgressStyle};

pub fn bytes_bar(total: Option<u64>, label: &str) -> ProgressBar {
    let bar = match total {
        Some(n) => ProgressBar::new(n),
        None => ProgressBar::new_spinner(),
    };
    let template = if total.is_some() {
        "{prefix} [{bar:30}] {bytes}/{total_bytes} {msg} ({eta})"
    } else {
        "{prefix} {spinner} {bytes} {msg}"
    };
    if let Ok(style) = ProgressStyle::with_template(template) {
        bar.set_style(style.progress_chars("=> "));
    }
    bar.set_prefix(label.to_string());
    bar
}
