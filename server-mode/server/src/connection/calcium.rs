//! `calcium`: the open CT's coronary calcium score, in the measuring lane within this
//! session's share of it (as findings are measured): each lesion, each artery its region
//! names, and the total, as `hounsfield calcium --json` prints them. Every box is checked
//! against the volume before anything is scored; a refusal names the field.

use std::ops::ControlFlow;
use std::time::Instant;

use glam::DVec3;
use hounsfield_findings::arteries::{Artery, NamedRegion};
use hounsfield_findings::calcium::{self, DEFAULT_MG_PER_CM3_PER_HU, VoxelBox};
use hounsfield_findings::scoring::calcium_report;
use hounsfield_protocol::{CalciumRequest, ErrorCode, LpsBox, MOST_ARTERY_REGIONS, ServerMessage};
use render_core::{Modality, Volume};

use super::Connection;

impl Connection {
    /// `calcium`: scores the open CT's calcium (`calcium` reply).
    pub(super) async fn calcium(&mut self, request: CalciumRequest) -> ControlFlow<()> {
        let (series, volume) = match self.open_series().await {
            Ok(open) => open,
            Err(replied) => return replied,
        };
        if volume.modality != Modality::CT {
            let why = format!(
                "calcium: series {series} is {}, not a CT: the score is a CT's",
                volume.modality.code()
            );
            return self.error(ErrorCode::BadValue, why).await;
        }
        let arteries = match artery_regions(&request) {
            Ok(arteries) => arteries,
            Err(why) => return self.error(ErrorCode::BadValue, why).await,
        };
        if let Some(refused) = self.refuse_while_share_spent("calcium").await {
            return refused;
        }
        let scored = self
            .app
            .measuring
            .run(move || score(&volume, &series, &request, &arteries))
            .await;
        match scored {
            Ok((result, took)) => {
                self.measuring.charge(took, Instant::now());
                match result {
                    Ok(report) => self.send(&ServerMessage::Calcium(Box::new(report))).await,
                    Err(why) => self.error(ErrorCode::BadValue, why).await,
                }
            }
            Err(error) => self.error(ErrorCode::Internal, error.to_string()).await,
        }
    }
}

/// The regions `request` names arteries by, checked: at most [`MOST_ARTERY_REGIONS`], each
/// a known artery.
fn artery_regions(request: &CalciumRequest) -> Result<Vec<NamedRegion>, String> {
    if request.arteries.len() > MOST_ARTERY_REGIONS {
        return Err(format!(
            "calcium arteries: {} regions, at most {MOST_ARTERY_REGIONS}",
            request.arteries.len()
        ));
    }
    request
        .arteries
        .iter()
        .enumerate()
        .map(|(n, named)| {
            let artery = Artery::from_code(&named.artery).ok_or_else(|| {
                format!(
                    "calcium arteries[{n}].artery: \"{}\" is none of LM, LAD, LCx, RCA, other",
                    named.artery.chars().take(16).collect::<String>()
                )
            })?;
            let (a, b) = corners(&named.region);
            if !(a.is_finite() && b.is_finite()) {
                return Err(format!("calcium arteries[{n}].box: not finite"));
            }
            Ok(NamedRegion { artery, a, b })
        })
        .collect()
}

/// The calcium of `volume` (series `series`) as `request` asks it scored.
fn score(
    volume: &Volume,
    series: &str,
    request: &CalciumRequest,
    arteries: &[NamedRegion],
) -> Result<hounsfield_protocol::CalciumReport, String> {
    let voxels = |lps: &LpsBox, what: &'static str| {
        let (a, b) = corners(lps);
        VoxelBox::of_lps(volume, a, b, what).map_err(|error| format!("calcium {what}: {error}"))
    };
    let region = match &request.roi {
        Some(roi) => voxels(roi, "roi")?,
        None => VoxelBox::whole(volume),
    };
    let factor = match &request.calibration {
        Some(known) => {
            let insert = voxels(&known.region, "calibration")?;
            calcium::calibration_factor(volume, insert, known.mg_per_cm3)
                .map_err(|error| format!("calcium calibration: {error}"))?
        }
        None => DEFAULT_MG_PER_CM3_PER_HU,
    };
    calcium_report(
        volume,
        series,
        region,
        factor,
        request.calibration.is_some(),
        arteries,
    )
    .map_err(|error| format!("calcium: {error}"))
}

/// A box's two corners.
fn corners(lps: &LpsBox) -> (DVec3, DVec3) {
    (
        DVec3::new(lps[0], lps[1], lps[2]),
        DVec3::new(lps[3], lps[4], lps[5]),
    )
}
