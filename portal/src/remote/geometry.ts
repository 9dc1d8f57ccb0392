/** Where the remote picture sits inside the video element, and how to map points onto it. */

export interface Size {
  readonly width: number;
  readonly height: number;
}

/** The picture's box inside an element of `element` size, drawn with `object-fit: contain`. */
export interface ContentBox {
  readonly left: number;
  readonly top: number;
  readonly width: number;
  readonly height: number;
  /** Element pixels per display pixel. */
  readonly scale: number;
}

/** The letterboxed box a `display`-sized picture takes in an `element`-sized box (centred, aspect kept). */
export function contentBox(element: Size, display: Size): ContentBox {
  if (display.width <= 0 || display.height <= 0 || element.width <= 0 || element.height <= 0) {
    return { left: 0, top: 0, width: 0, height: 0, scale: 0 };
  }
  const scale = Math.min(element.width / display.width, element.height / display.height);
  const width = display.width * scale;
  const height = display.height * scale;
  return { left: (element.width - width) / 2, top: (element.height - height) / 2, width, height, scale };
}

/**
 * The display pixel under the point (`x`, `y`) of the element (relative to its top-left corner),
 * clamped to the display; undefined when the picture has no size yet.
 */
export function toDisplay(x: number, y: number, element: Size, display: Size): { x: number; y: number } | undefined {
  const box = contentBox(element, display);
  if (box.scale === 0) {
    return undefined;
  }
  const clamp = (value: number, max: number) => Math.min(Math.max(Math.floor(value), 0), max - 1);
  return {
    x: clamp((x - box.left) / box.scale, display.width),
    y: clamp((y - box.top) / box.scale, display.height),
  };
}

/** The element point (relative to its top-left corner) showing the centre of display pixel (`x`, `y`). */
export function toElement(x: number, y: number, element: Size, display: Size): { x: number; y: number } | undefined {
  const box = contentBox(element, display);
  if (box.scale === 0) {
    return undefined;
  }
  return { x: box.left + (x + 0.5) * box.scale, y: box.top + (y + 0.5) * box.scale };
}

/** The size to ask the agent's virtual display for: the element's, within the agent's limits. */
export function resizeRequest(element: Size): Size | undefined {
  const width = Math.round(element.width);
  const height = Math.round(element.height);
  if (width <= 0 || height <= 0) {
    return undefined;
  }
  return { width: Math.min(Math.max(width, 320), 3840), height: Math.min(Math.max(height, 200), 2160) };
}
