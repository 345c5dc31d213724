//! The operator's choice where the seam check and the recorded offset differ.

/// `--resume-at`: what `run` writes where the seam and the recorded offset differ.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum ResumeAt {
    /// The proven offset W (nothing where no copy exists: MM2 copies the partition from its start).
    Seam,
    /// The recorded offset V, accepting what the seam says.
    Recorded,
}

impl ResumeAt {
    /// The choices as `--resume-at` spells them.
    pub const NAMES: [&'static str; 2] = ["seam", "recorded"];
}

impl std::str::FromStr for ResumeAt {
    type Err = String;

    fn from_str(s: &str) -> Result<ResumeAt, String> {
        match s {
            "seam" => Ok(ResumeAt::Seam),
            "recorded" => Ok(ResumeAt::Recorded),
            other => Err(format!("{other:?} is not a resume choice (seam or recorded)")),
        }
    }
}
