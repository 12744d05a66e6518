// Geometry of the person picker (web/js/person_picker.js), with no frontend import so that
// tests/js can test it with node --test.
//
// The frontend draws a node's single preview image fitted into the preview widget's area:
// scaled down (never up) to fit the node's width and the widget's height less the line that
// prints the image size, centred (ComfyUI frontend 1.32, renderPreview). Boxes come from the
// node as fractions of the picture, numbered 1..N from the left.

/** Height the frontend keeps under the picture for its "W x H" line when that setting is on. */
export const SIZE_LINE = 15;

/**
 * Where the picture lies in node coordinates: {x, y, w, h}.
 * nodeWidth: the node's width; top, height: the preview widget's y and height;
 * imageWidth, imageHeight: the picture's natural size; sizeLine: px kept for the size line.
 */
export function pictureRect(nodeWidth, top, height, imageWidth, imageHeight, sizeLine = 0) {
  const room = Math.max(0, height - sizeLine);
  const k = Math.min(nodeWidth / imageWidth, room / imageHeight, 1);
  const w = imageWidth * k;
  const h = imageHeight * k;
  return { x: (nodeWidth - w) / 2, y: top + (room - h) / 2, w, h };
}

/** Box (fractions x0, y0, x1, y1) -> {x, y, w, h} in the coordinates of `rect`. */
export function boxRect(box, rect) {
  const [x0, y0, x1, y1] = box;
  return { x: rect.x + x0 * rect.w, y: rect.y + y0 * rect.h, w: (x1 - x0) * rect.w, h: (y1 - y0) * rect.h };
}

/**
 * The person number (1..N) under point (x, y) of the picture at `rect`, or 0 for none. Where
 * boxes overlap (a person in front of another's box) the smallest box holding the point wins,
 * so everyone can be clicked.
 */
export function personAt(boxes, rect, x, y) {
  let best = 0;
  let bestArea = Infinity;
  boxes.forEach((box, i) => {
    const r = boxRect(box, rect);
    const inside = x >= r.x && x <= r.x + r.w && y >= r.y && y <= r.y + r.h;
    if (inside && r.w * r.h < bestArea) {
      best = i + 1;
      bestArea = r.w * r.h;
    }
  });
  return best;
}
