/**
 * The one way this page makes DOM: h(tag, props, ...children). Children that are strings
 * become Text nodes, never HTML, so a project named `<img src=x onerror=alert(1)>` shows
 * as those characters (OBSERVER-4). There is no innerHTML anywhere in the observer.
 */
export type Child = Node | string | number | null | undefined | false

export interface Props {
  class?: string
  title?: string
  hidden?: boolean
  /** data-* attributes (tests and the bench find elements by them). */
  data?: Record<string, string>
  attrs?: Record<string, string>
  on?: { [K in keyof HTMLElementEventMap]?: (event: HTMLElementEventMap[K]) => void }
}

export function h<K extends keyof HTMLElementTagNameMap>(tag: K, props: Props | null = null, ...children: Child[]): HTMLElementTagNameMap[K] {
  const element = document.createElement(tag)
  if (props) {
    if (props.class) element.className = props.class
    if (props.title) element.title = props.title
    if (props.hidden) element.hidden = true
    for (const [key, value] of Object.entries(props.data ?? {})) element.dataset[key] = value
    for (const [key, value] of Object.entries(props.attrs ?? {})) element.setAttribute(key, value)
    for (const [type, listener] of Object.entries(props.on ?? {})) element.addEventListener(type, listener as EventListener)
  }
  append(element, children)
  return element
}

export function append(parent: Node, children: Child[]): void {
  for (const child of children) {
    if (child === null || child === undefined || child === false) continue
    parent.appendChild(typeof child === 'string' || typeof child === 'number' ? document.createTextNode(String(child)) : child)
  }
}

/** Replaces an element's children (cheap for the small lists this page shows). */
export function replace(parent: Element, ...children: Child[]): void {
  parent.replaceChildren()
  append(parent, children)
}
