//! `calcium`: the open CT's coronary calcium score, in the measuring lane within this
//! session's share of it (as findings are measured): each lesion, each artery its region
//! names, and the total, as `hounsfield calcium --json` prints them. The reader names
//! lesions on the axial cell (a click takes a plaque, a box the lesions of its slice);
//! the names are kept for the series while it stays open, and the lesions are laid over
//! this session's slice cells, each in its artery's colour and the others in the
//! candidates'. Every box and point is checked before anything is scored; a refusal
//! names the field.

use std::ops::ControlFlow;
use std::sync::Arc;
use std::time::Instant;

use glam::DVec3;
use hounsfield_findings::arteries::{Artery, NamedRegion};
use hounsfield_findings::calcium::{self, CalciumError, DEFAULT_MG_PER_CM3_PER_HU, VoxelBox};
use hounsfield_findings::naming::{CalciumAsked, NamedScore, NamingGesture};
use hounsfield_protocol::{
    CalciumReport, CalciumRequest, DrawnDensity, ErrorCode, KnownDensity, LesionNaming, LpsBox,
    MOST_ARTERY_REGIONS, MOST_KEPT_ARTERY_REGIONS, ServerMessage,
};
use render_core::{Modality, Volume};

use super::Connection;
use crate::compose::{SegmentOverlay, calcium_lesion_overlays};

/// The score a session keeps for its series while its reader names lesions.
#[derive(Default)]
pub(super) struct KeptScore(Option<(String, NamedScore)>);

impl KeptScore {
    /// The score kept for `series`, taken (another series' is dropped).
    fn take_for(&mut self, series: &str) -> Option<NamedScore> {
        self.0
            .take()
            .filter(|(kept, _)| kept == series)
            .map(|(_, score)| score)
    }
}

/// Lesions named by a reader's gesture, in patient points, checked.
struct Naming {
    artery: Artery,
    gesture: NamingGesture,
}

/// What one score asks, checked: the regions given (none: those kept) and the lesions
/// named now.
struct Asked {
    request: CalciumRequest,
    given: Option<Vec<NamedRegion>>,
    naming: Option<Naming>,
}

/// What a score tells: the report and the lesions to lay over the slices.
struct Scored {
    report: CalciumReport,
    lesions: Arc<[SegmentOverlay]>,
}

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
        let mut asked = match self.asked(request) {
            Ok(asked) => asked,
            Err((code, why)) => return self.error(code, why).await,
        };
        if let Some(refused) = self.refuse_while_share_spent("calcium").await {
            return refused;
        }
        let kept = self.calcium_kept.take_for(&series);
        // A first score of a series whose last report held one names its lesions as the
        // report did, until a reader scores it.
        if kept.is_none() && asked.given.is_none() {
            asked.given = self.app.findings.saved_names(&series);
        }
        let scoring = series.clone();
        let scored = self
            .app
            .measuring
            .run(move || score(&volume, &scoring, asked, kept))
            .await;
        match scored {
            Ok(((kept, result), took)) => {
                self.measuring.charge(took, Instant::now());
                self.calcium_kept = KeptScore(kept.map(|score| (series.clone(), score)));
                match result {
                    Ok(scored) => {
                        // A reader's score is the one saved with the findings.
                        if self.identity.role.opens_series() {
                            self.app
                                .findings
                                .keep_calcium(&series, scored.report.clone());
                        }
                        self.session.show_calcium_lesions(scored.lesions);
                        self.send(&ServerMessage::Calcium(Box::new(scored.report)))
                            .await
                    }
                    Err(why) => self.error(ErrorCode::BadValue, why).await,
                }
            }
            Err(error) => self.error(ErrorCode::Internal, error.to_string()).await,
        }
    }

    /// `request` checked: its artery regions and the lesions it names, in patient
    /// points.
    fn asked(&self, mut request: CalciumRequest) -> Result<Asked, (ErrorCode, String)> {
        let bad = |why: String| (ErrorCode::BadValue, why);
        if let Some(drawn) = request.calibration_on_slice.take() {
            if request.calibration.is_some() {
                return Err(bad(
                    "calcium calibration_on_slice: give it or calibration, not both".to_string(),
                ));
            }
            request.calibration = Some(self.drawn_density(&drawn)?);
        }
        let given = match &request.arteries {
            Some(given) => Some(artery_regions(given).map_err(bad)?),
            None => None,
        };
        let naming = match &request.name {
            Some(naming) => Some(self.naming(naming)?),
            None => None,
        };
        Ok(Asked {
            request,
            given,
            naming,
        })
    }

    /// A reader's naming gesture, checked: a known artery, the axial cell standing as the
    /// scan's slices, one point or two within the cell.
    fn naming(&self, naming: &LesionNaming) -> Result<Naming, (ErrorCode, String)> {
        let bad = |why: String| (ErrorCode::BadValue, why);
        let artery = artery_named(&naming.artery, "name.artery").map_err(bad)?;
        self.scan_axial(&naming.cell, "name")?;
        let point = |at: [f64; 2]| {
            self.session
                .point_in_cell("calcium name.points", &naming.cell, at)
                .map_err(|refusal| (refusal.code, refusal.message))
        };
        let gesture = match naming.points[..] {
            [at] => NamingGesture::Click(point(at)?),
            [a, b] => NamingGesture::Box(point(a)?, point(b)?),
            _ => {
                return Err(bad(format!(
                    "calcium name.points: one point (a click) or two (a box), not {}",
                    naming.points.len()
                )));
            }
        };
        Ok(Naming { artery, gesture })
    }
}

impl Connection {
    /// Refuses a `cell` other than the axial cell standing as the scan's slices, for the
    /// gesture `field` (`name`, `calibration_on_slice`).
    fn scan_axial(&self, cell: &str, field: &str) -> Result<(), (ErrorCode, String)> {
        let bad = |why: String| (ErrorCode::BadValue, why);
        if cell != "axial" {
            return Err(bad(format!(
                "calcium {field}.cell: \"{}\": drawn on the axial cell only",
                cell.chars().take(16).collect::<String>()
            )));
        }
        if self.session.slices_turned() {
            return Err(bad(format!(
                "calcium {field}.cell: the slices are turned; draw on the scan's own axial slices"
            )));
        }
        Ok(())
    }

    /// A region of known density drawn on the axial cell, as a box of the patient: its
    /// two corners' pixels on the slice shown, a quarter of a slice either side of it
    /// (the slice's voxels and no other's), checked as the cell's points are.
    fn drawn_density(&self, drawn: &DrawnDensity) -> Result<KnownDensity, (ErrorCode, String)> {
        const FIELD: &str = "calcium calibration_on_slice.points";
        self.scan_axial(&drawn.cell, "calibration_on_slice")?;
        let [a, b] = drawn.points[..] else {
            return Err((
                ErrorCode::BadValue,
                format!(
                    "{FIELD}: two points (a box's corners), not {}",
                    drawn.points.len()
                ),
            ));
        };
        let point = |at: [f64; 2]| {
            self.session
                .point_in_cell(FIELD, &drawn.cell, at)
                .map_err(|refusal| (refusal.code, refusal.message))
        };
        let volume = self.session.volume().ok_or((
            ErrorCode::NotOpen,
            "calcium: open a series first".to_string(),
        ))?;
        let region = calcium::box_on_slice(&volume, point(a)?, point(b)?);
        Ok(KnownDensity {
            region,
            mg_per_cm3: drawn.mg_per_cm3,
        })
    }
}

/// The regions `given` names arteries by, checked: at most [`MOST_ARTERY_REGIONS`], each
/// a known artery with a finite box.
fn artery_regions(given: &[hounsfield_protocol::ArteryRegion]) -> Result<Vec<NamedRegion>, String> {
    if given.len() > MOST_ARTERY_REGIONS {
        return Err(format!(
            "calcium arteries: {} regions, at most {MOST_ARTERY_REGIONS}",
            given.len()
        ));
    }
    given
        .iter()
        .enumerate()
        .map(|(n, named)| {
            let artery = artery_named(&named.artery, &format!("arteries[{n}].artery"))?;
            let (a, b) = corners(&named.region);
            if !(a.is_finite() && b.is_finite()) {
                return Err(format!("calcium arteries[{n}].box: not finite"));
            }
            Ok(NamedRegion { artery, a, b })
        })
        .collect()
}

/// The artery of `code`, or an error naming `field`.
fn artery_named(code: &str, field: &str) -> Result<Artery, String> {
    Artery::from_code(code).ok_or_else(|| {
        format!(
            "calcium {field}: \"{}\" is none of LM, LAD, LCx, RCA, other",
            code.chars().take(16).collect::<String>()
        )
    })
}

/// The calcium of `volume` (series `series`) as `asked`, from the score `kept` (see
/// [`NamedScore::asked`]), and the score to keep; a refusal names the field at fault.
fn score(
    volume: &Volume,
    series: &str,
    asked: Asked,
    kept: Option<NamedScore>,
) -> (Option<NamedScore>, Result<Scored, String>) {
    let Asked {
        request,
        given,
        naming,
    } = asked;
    let (region, factor) = match region_and_factor(volume, &request) {
        Ok(measured) => measured,
        Err(why) => return (kept, Err(why)),
    };
    let asked = CalciumAsked {
        region,
        factor,
        given,
        naming: naming.map(|naming| (naming.artery, naming.gesture)),
        shown: request.highlight,
    };
    let (kept, made) = NamedScore::asked(volume, series, asked, kept, MOST_KEPT_ARTERY_REGIONS);
    let told = match (&kept, made) {
        (Some(score), Ok(())) => Ok(told(score, request.calibration)),
        (_, Err(error)) => Err(refusal(&error)),
        (None, Ok(())) => Err("calcium: no score was made".to_string()),
    };
    (kept, told)
}

/// A scoring's refusal, naming the field at fault.
fn refusal(error: &CalciumError) -> String {
    match error {
        CalciumError::NoLesionClicked(_) | CalciumError::NoLesionInBox(_) => {
            format!("calcium name.points: {error}")
        }
        CalciumError::TooManyNames { .. } => format!("calcium name: {error}"),
        _ => format!("calcium: {error}"),
    }
}

/// The region scored and the calibration (with whether a region of known density gave
/// it) `request` asks for, checked.
fn region_and_factor(
    volume: &Volume,
    request: &CalciumRequest,
) -> Result<(VoxelBox, (f64, bool)), String> {
    let voxels = |lps: &LpsBox, what: &'static str| {
        let (a, b) = corners(lps);
        VoxelBox::of_lps(volume, a, b, what).map_err(|error| format!("calcium {what}: {error}"))
    };
    let region = match &request.roi {
        Some(roi) => voxels(roi, "roi")?,
        None => VoxelBox::whole(volume),
    };
    let factor = match &request.calibration {
        Some(known) => calcium::insert_factor(volume, known.region, known.mg_per_cm3)
            .map_err(|error| format!("calcium calibration: {error}"))?,
        None => DEFAULT_MG_PER_CM3_PER_HU,
    };
    Ok((region, (factor, request.calibration.is_some())))
}

/// What a kept score tells the client (with the region of known density that calibrated
/// it) and lays over the slices.
fn told(score: &NamedScore, calibration: Option<KnownDensity>) -> Scored {
    Scored {
        report: CalciumReport {
            calibration,
            ..score.report.clone()
        },
        lesions: score
            .masks
            .as_ref()
            .map_or_else(Arc::default, calcium_lesion_overlays),
    }
}

/// A box's two corners.
fn corners(lps: &LpsBox) -> (DVec3, DVec3) {
    (
        DVec3::new(lps[0], lps[1], lps[2]),
        DVec3::new(lps[3], lps[4], lps[5]),
    )
}
