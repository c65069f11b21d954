//! A prior study made from the shared data: series of a study copied with a new study,
//! new series and new instances, an earlier date, the same patient, by DCMTK's dcmodify
//! (the product reads the copies as another program wrote them).

use std::path::Path;
use std::process::Command;

/// The StudyInstanceUID of the prior [`lumbar_prior`] makes.
pub const LUMBAR_PRIOR_STUDY: &str = "2.25.301118417512350197433206112411061302711";
/// The date of that prior: a year before the lumbar MR's (20070101).
pub const LUMBAR_PRIOR_DATE: &str = "20060101";

/// The lumbar MR's sagittal T1 and T2 (`mr-lumbar/SagT1Flair`, `SagT2frFSES`) copied into
/// `folder` as a study of the same patient a year earlier ([`LUMBAR_PRIOR_STUDY`],
/// [`LUMBAR_PRIOR_DATE`]): every study, series and instance UID new.
pub fn lumbar_prior(folder: &Path) {
    for (n, series) in ["SagT1Flair", "SagT2frFSES"].into_iter().enumerate() {
        let into = folder.join(series);
        std::fs::create_dir_all(&into).expect("a folder for the prior's series");
        let mut copies = Vec::new();
        let from = crate::data(&format!("mr-lumbar/{series}"));
        let mut files: Vec<_> = std::fs::read_dir(&from)
            .expect("the lumbar series")
            .map(|entry| entry.expect("an entry").path())
            .collect();
        files.sort();
        for file in files {
            let copy = into.join(file.file_name().expect("a file name"));
            std::fs::copy(&file, &copy).expect("the image copied");
            copies.push(copy);
        }
        let changed = Command::new("dcmodify")
            .arg("--no-backup")
            .args(["-i", &format!("(0020,000d)={LUMBAR_PRIOR_STUDY}")])
            .args(["-i", &format!("(0020,000e)={LUMBAR_PRIOR_STUDY}.{}", n + 1)])
            .args(["-i", &format!("(0008,0020)={LUMBAR_PRIOR_DATE}")])
            .args(["-i", "(0008,0050)=PRIOR-2006"])
            .arg("--gen-inst-uid")
            .args(&copies)
            .output()
            .expect("DCMTK's dcmodify runs");
        assert!(
            changed.status.success(),
            "dcmodify: {}",
            String::from_utf8_lossy(&changed.stderr)
        );
    }
}
