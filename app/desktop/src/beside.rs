//! A second series read beside the first (a prior of the same patient, or another series
//! of the study): its own workspace in the right half of the window, moving with the first.
//! Whichever side the reader moves leads: the crosshair (landing on the other series' own
//! slices), the slice planes' turn, the 3D view's rotation and zoom and the layout follow
//! on the other side, and the grey window too when the reader links it.

use eframe::egui;
use glam::DVec3;
use render_core::Window;
use render_core::camera::Camera;
use render_core::view::{Layout, SeriesLink, SliceFrame, nearest_slices};

use super::workspace::LocalWorkspace;

/// The central area split into a left and a right half with a gap between, each a child
/// UI clipped to its own (a long series name or a wide control never pushes one into the
/// other); the whole area is taken from `ui`.
pub fn halves(ui: &mut egui::Ui) -> (egui::Ui, egui::Ui) {
    let whole = ui.available_rect_before_wrap();
    let gap = 4.0;
    let half = (whole.width() - gap) * 0.5;
    let left = egui::Rect::from_min_size(whole.min, egui::vec2(half, whole.height()));
    let right = egui::Rect::from_min_max(egui::pos2(whole.max.x - half, whole.min.y), whole.max);
    let mut child = |rect: egui::Rect| {
        let mut child = ui.new_child(egui::UiBuilder::new().max_rect(rect));
        child.set_clip_rect(rect);
        child
    };
    let halves = (child(left), child(right));
    ui.allocate_rect(whole, egui::Sense::hover());
    halves
}

/// Logs where the series beside now is (its crosshair, in patient coordinates), as the
/// tests and a support engineer read it.
pub fn note_position(at: DVec3) {
    tracing::info!(
        "the series beside is at LPS [{:.2}, {:.2}, {:.2}]",
        at.x,
        at.y,
        at.z
    );
}

/// The second series, shown and linked.
pub struct Beside {
    /// Its views, rendered here with a renderer of their own.
    pub workspace: LocalWorkspace,
    /// Its name (series id), as the first series' label is.
    pub label: String,
    /// How its points are found from the first series'.
    pub link: SeriesLink,
    /// Whether one grey window serves both series.
    pub window_linked: bool,
    /// What each side showed after the last [`Self::follow`]: `[first, second]`.
    seen: [Seen; 2],
}

/// What the link keeps in step, as one side showed it.
#[derive(Debug, Clone, Copy, PartialEq)]
struct Seen {
    crosshair: DVec3,
    frame: SliceFrame,
    camera: Camera,
    window: Option<Window>,
    layout: Layout,
}

impl Seen {
    fn of(workspace: &LocalWorkspace) -> Self {
        Self {
            crosshair: workspace.link.crosshair,
            frame: workspace.link.frame,
            camera: workspace.view3d.view.camera,
            window: workspace.link.window,
            layout: workspace.layout,
        }
    }
}

/// A point of one series to the other's, as the link finds it.
type Mapping = fn(&SeriesLink, DVec3) -> DVec3;

/// Which side moves the other.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Lead {
    First,
    Second,
}

impl Beside {
    /// `workspace` beside `first`, linked as `link` says; it starts where the first series
    /// is (its crosshair on its nearest slices), the grey windows apart.
    pub fn new(
        first: &mut LocalWorkspace,
        workspace: LocalWorkspace,
        label: String,
        link: SeriesLink,
    ) -> Self {
        let mut beside = Self {
            seen: [Seen::of(first), Seen::of(&workspace)],
            workspace,
            label,
            link,
            window_linked: false,
        };
        beside.carry(first, Lead::First, true);
        beside
    }

    /// Keeps the two sides in step after the reader moved one of them (the first when both
    /// moved); whether anything was carried over.
    pub fn follow(&mut self, first: &mut LocalWorkspace) -> bool {
        let lead = if Seen::of(first) != self.seen[0] {
            Lead::First
        } else if Seen::of(&self.workspace) != self.seen[1] {
            Lead::Second
        } else {
            return false;
        };
        self.carry(first, lead, false);
        true
    }

    /// Moves the side that does not lead to where the leading one is; `all` carries
    /// every linked thing, else only what changed.
    fn carry(&mut self, first: &mut LocalWorkspace, lead: Lead, all: bool) {
        let link = self.link;
        let window_linked = self.window_linked;
        let (from, to, before, map): (&LocalWorkspace, &mut LocalWorkspace, Seen, Mapping) =
            match lead {
                Lead::First => (
                    &*first,
                    &mut self.workspace,
                    self.seen[0],
                    SeriesLink::follow,
                ),
                Lead::Second => (&self.workspace, first, self.seen[1], SeriesLink::lead),
            };
        let now = Seen::of(from);
        if all || now.frame != before.frame {
            to.link.frame = now.frame;
        }
        if all || now.crosshair != before.crosshair || now.frame != before.frame {
            to.link.crosshair = on_own_slices(to, map(&link, now.crosshair));
        }
        if all || now.camera != before.camera {
            let camera = &mut to.view3d.view.camera;
            camera.direction = now.camera.direction;
            camera.up = now.camera.up;
            camera.zoom = now.camera.zoom;
            camera.projection = now.camera.projection;
            camera.view_angle_deg = now.camera.view_angle_deg;
            to.view3d.refresh();
        }
        if window_linked
            && (all || now.window != before.window)
            && let Some(window) = now.window
        {
            to.set_window(window);
        }
        to.layout = now.layout;
        self.seen = [Seen::of(first), Seen::of(&self.workspace)];
    }

    /// The link's controls: the window linked or not, the offset of series without one
    /// frame of reference, and closing (`true` when the reader closed the second series).
    pub fn controls(&mut self, ui: &mut egui::Ui, first: &mut LocalWorkspace) -> bool {
        let mut closed = false;
        ui.horizontal_wrapped(|ui| {
            ui.add(egui::Label::new(format!("Beside: {}", self.label)).truncate());
            match &mut self.link {
                SeriesLink::SameFrame => {
                    ui.label("linked by frame of reference")
                        .on_hover_text("the same LPS millimetres are the same place in both");
                }
                SeriesLink::Offset(offset) => {
                    ui.label("offset (mm)")
                        .on_hover_text("no shared frame of reference: the second series' point is the first's plus this offset");
                    let mut changed = false;
                    for (axis, value) in ["L", "P", "S"].into_iter().zip([&mut offset.x, &mut offset.y, &mut offset.z]) {
                        changed |= ui
                            .add(egui::DragValue::new(value).speed(0.5).prefix(format!("{axis} ")).suffix(" mm"))
                            .changed();
                    }
                    if changed {
                        self.carry_crosshair(first);
                    }
                }
            }
            if ui
                .checkbox(&mut self.window_linked, "link W/L")
                .on_hover_text("one grey window for both series")
                .changed()
                && self.window_linked
                && let Some(window) = first.link.window
            {
                self.workspace.set_window(window);
            }
            closed = ui.button("Close beside").clicked();
        });
        closed
    }

    /// Moves the second series' crosshair to where the first's is (after the offset changed).
    fn carry_crosshair(&mut self, first: &LocalWorkspace) {
        let there = self.link.follow(first.link.crosshair);
        self.workspace.link.crosshair = on_own_slices(&self.workspace, there);
        self.seen[1] = Seen::of(&self.workspace);
    }
}

/// `lps` brought onto `workspace`'s own slices along its planes' normals (as it is before
/// its volume is there).
fn on_own_slices(workspace: &LocalWorkspace, lps: DVec3) -> DVec3 {
    workspace.renderer().volume().map_or(lps, |volume| {
        nearest_slices(volume, &workspace.link.frame, lps)
    })
}
