//! hallmark-core: rubrics, observations, scoring and aggregation.
//!
//! This crate owns the meaning of a score. It parses a rubric (`docs/rubric-format.md`) and an
//! assessor's observations (`docs/observations.md`) from text, scores them exactly with
//! `rust_decimal`, and aggregates several assessors' sheets by the rubric's rule.
//!
//! It must never depend on IO, the clock, SQLite or Tauri: callers read files and pass text in,
//! so every function here is pure and the crate builds and tests in seconds. A test
//! (`tests/architecture.rs`) enforces the dependency list.
//!
//! ```
//! use hallmark_core::{rubric::Rubric, observation, score::score};
//! let rubric = Rubric::load("jiangsu-15min.toml", hallmark_core::builtin::JIANGSU).unwrap();
//! let obs = observation::parse("obs.json", r#"{"format":"hallmark-observations/1",
//!     "rubric":"jiangsu-15min","answers":{"1.1.location":true}}"#, &rubric).unwrap();
//! let sheet = score(&rubric, &obs);
//! assert_eq!(sheet.total.to_string(), "1");
//! assert!(!sheet.complete);
//! ```

pub mod aggregate;
pub mod calendar;
pub mod date;
pub mod finding;
pub mod hex;
pub mod json;
pub mod num;
pub mod observation;
pub mod render;
pub mod rubric;
pub mod score;
pub mod validity;

/// The rubrics shipped in `rubrics/`, compiled in so the CLI works from any directory.
pub mod builtin {
    pub const JIANGSU: &str = include_str!("../../../rubrics/jiangsu-15min.toml");
    pub const LIAONING: &str = include_str!("../../../rubrics/liaoning-demo-window.toml");
    /// (file name, text) of every shipped rubric, in its current version: what a new inspection uses.
    pub const ALL: [(&str, &str); 2] = [("jiangsu-15min.toml", JIANGSU), ("liaoning-demo-window.toml", LIAONING)];
    /// Jiangsu version 1, before the raw inputs of 5.(1), 7.(2) and 10.(2) (issue #13). Never edit the file.
    pub const JIANGSU_V1: &str = include_str!("../../../rubrics/previous/jiangsu-15min-1.toml");
    /// Liaoning version 1, before samples had a size (issue #14): inspections, bundles and
    /// observation files recorded against it still score by it. Never edit the file: its hash
    /// is pinned by every inspection made with it.
    pub const LIAONING_V1: &str = include_str!("../../../rubrics/previous/liaoning-demo-window-1.toml");
    /// Liaoning version 3, before signage places and honours' dates were recorded (issue #13). Never edit the file.
    pub const LIAONING_V3: &str = include_str!("../../../rubrics/previous/liaoning-demo-window-3.toml");
    /// Liaoning version 2, before the working-day limit (issue #13). Never edit the file.
    pub const LIAONING_V2: &str = include_str!("../../../rubrics/previous/liaoning-demo-window-2.toml");

    /// A rubric text hallmark has shipped, current or earlier.
    #[derive(Debug, Clone, Copy)]
    pub struct Shipped {
        pub file: &'static str,
        pub id: &'static str,
        pub version: &'static str,
        pub text: &'static str,
    }

    /// Every rubric version ever shipped (a test checks each id and version against its text).
    pub const SHIPPED: [Shipped; 6] = [
        Shipped { file: "jiangsu-15min.toml", id: "jiangsu-15min", version: "2", text: JIANGSU },
        Shipped { file: "previous/jiangsu-15min-1.toml", id: "jiangsu-15min", version: "1", text: JIANGSU_V1 },
        Shipped { file: "liaoning-demo-window.toml", id: "liaoning-demo-window", version: "4", text: LIAONING },
        Shipped { file: "previous/liaoning-demo-window-3.toml", id: "liaoning-demo-window", version: "3", text: LIAONING_V3 },
        Shipped { file: "previous/liaoning-demo-window-2.toml", id: "liaoning-demo-window", version: "2", text: LIAONING_V2 },
        Shipped { file: "previous/liaoning-demo-window-1.toml", id: "liaoning-demo-window", version: "1", text: LIAONING_V1 },
    ];

    /// The shipped text of rubric `id` at `version`.
    pub fn find(id: &str, version: &str) -> Option<Shipped> {
        SHIPPED.iter().copied().find(|s| s.id == id && s.version == version)
    }
}
