// Where an object-fit: contain image really is inside its element, and where a box given in
// 0-1 coordinates of the upright image lands on the page. The API's images are already upright
// (EXIF orientation applied), so box_norm maps straight onto the displayed picture.

// The displayed picture's rect, relative to the element's own box, for an element of size
// (boxW, boxH) showing a picture of natural size (natW, natH) with object-fit: contain.
export function containRect(boxW, boxH, natW, natH) {
  if (!(natW > 0 && natH > 0 && boxW > 0 && boxH > 0)) return { x: 0, y: 0, width: 0, height: 0 };
  const scale = Math.min(boxW / natW, boxH / natH);
  const width = natW * scale;
  const height = natH * scale;
  return { x: (boxW - width) / 2, y: (boxH - height) / 2, width, height };
}

// A detection's rect (x, y, width, height) in the same coordinates as `pic` (from containRect).
export function boxRect(pic, boxNorm) {
  const [x1, y1, x2, y2] = boxNorm.map((v) => Math.min(1, Math.max(0, v)));
  return {
    x: pic.x + x1 * pic.width,
    y: pic.y + y1 * pic.height,
    width: (x2 - x1) * pic.width,
    height: (y2 - y1) * pic.height,
  };
}
