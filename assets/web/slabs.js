// The slab control of each slice cell in the 2×2 layout: the slab's thickness (mm) and how
// its voxels combine (MIP, MinIP, average), sent as the `slab` input for that cell and set
// back from the server's view (`opened.view.slabs`, `view.slabs`), so that a reconnection
// or a reset shows what the server renders.

/** The thicknesses offered (mm; 0 is a thin slice). */
const THICKNESSES_MM = [0, 5, 10, 20, 30, 50];
/** The ways a slab's voxels combine, as the protocol names them, with their labels. */
const MODES = [
  ["mip", "MIP"],
  ["minip", "MinIP"],
  ["average", "Average"],
];
/** The slice cells, in the order of the 2×2 layout. */
const PLANES = ["axial", "coronal", "sagittal"];

function select(className, title, options) {
  const node = document.createElement("select");
  node.className = className;
  node.title = title;
  node.replaceChildren(...options.map(([value, label]) => new Option(label, value)));
  return node;
}

/** Selects `value` in `node`, adding it first when it is not offered (a slab set elsewhere). */
function choose(node, value, label) {
  const text = String(value);
  if (![...node.options].some((option) => option.value === text)) node.add(new Option(label, text));
  node.value = text;
}

/**
 * Fills `box` with a slab control for each slice cell, each sending
 * `send("slab", {plane, mm, mode})` when changed; returns `show(slabs)`, which sets the
 * controls to the server's `{axial?, coronal?, sagittal?}` (absent: thin).
 */
export function attachSlabs(box, send) {
  const controls = {};
  for (const plane of PLANES) {
    const mm = select("slab-mm", `The ${plane} slab's thickness (0: a thin slice)`, THICKNESSES_MM.map((v) => [v, v === 0 ? "thin" : `${v} mm`]));
    const mode = select("slab-mode", `How the ${plane} slab's voxels combine`, MODES);
    const cell = document.createElement("div");
    cell.className = "slab";
    cell.dataset.plane = plane;
    cell.append(mm, mode);
    box.append(cell);
    const changed = () => send("slab", { plane, mm: Number(mm.value), mode: mode.value });
    mm.addEventListener("change", changed);
    mode.addEventListener("change", changed);
    controls[plane] = { mm, mode };
  }
  return (slabs) => {
    for (const plane of PLANES) {
      const slab = slabs?.[plane];
      const mm = slab?.mm ?? 0;
      choose(controls[plane].mm, mm, mm === 0 ? "thin" : `${mm} mm`);
      if (slab?.mode) choose(controls[plane].mode, slab.mode, slab.mode);
    }
  };
}
