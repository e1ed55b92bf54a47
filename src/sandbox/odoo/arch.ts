/**
 * View architectures: a small XML reader and writer for Odoo's view arch (elements, attributes,
 * text, comments; entities kept as written), and view inheritance the way Odoo applies it:
 * `<xpath expr="…" position="…">` or a located element, positions after, before, inside,
 * replace and attributes. XPath covers what inherited views use: `/` and `//` steps, `*`, and
 * `[@attr='value']` predicates.
 */

export interface ArchElement {
  readonly kind: 'element';
  tag: string;
  /** In document order; values as written in the source (entities not decoded). */
  attrs: [string, string][];
  children: ArchNode[];
}
export type ArchNode =
  | ArchElement
  | { readonly kind: 'text'; text: string }
  | { readonly kind: 'comment'; text: string };

export class ArchError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'ArchError';
  }
}

const NAME = /[A-Za-z_][\w.:-]*/y;

/** Parses one root element (a leading `<?xml …?>` and surrounding whitespace allowed). */
export function parseArch(source: string): ArchElement {
  let at = 0;
  const fail = (what: string): never => {
    throw new ArchError(`Invalid view architecture: ${what} at character ${at}`);
  };
  const name = (): string => {
    NAME.lastIndex = at;
    const match = NAME.exec(source);
    if (!match) return fail('a name was expected');
    at = NAME.lastIndex;
    return match[0];
  };
  const skipSpace = () => {
    while (at < source.length && /\s/.test(source[at] ?? '')) at += 1;
  };
  const element = (): ArchElement => {
    at += 1; // '<'
    const tag = name();
    const attrs: [string, string][] = [];
    for (;;) {
      skipSpace();
      if (source.startsWith('/>', at)) {
        at += 2;
        return { kind: 'element', tag, attrs, children: [] };
      }
      if (source[at] === '>') {
        at += 1;
        break;
      }
      const attr = name();
      skipSpace();
      if (source[at] !== '=') fail(`'=' expected after attribute ${attr}`);
      at += 1;
      skipSpace();
      const quote = source[at];
      if (quote !== '"' && quote !== "'") return fail(`a quoted value expected for attribute ${attr}`);
      const end = source.indexOf(quote, at + 1);
      if (end < 0) fail(`unterminated value of attribute ${attr}`);
      attrs.push([attr, source.slice(at + 1, end)]);
      at = end + 1;
    }
    const children: ArchNode[] = [];
    for (;;) {
      if (at >= source.length) fail(`<${tag}> is not closed`);
      if (source.startsWith('</', at)) {
        at += 2;
        const closing = name();
        if (closing !== tag) fail(`</${closing}> closes <${tag}>`);
        skipSpace();
        if (source[at] !== '>') fail(`'>' expected after </${closing}`);
        at += 1;
        return { kind: 'element', tag, attrs, children };
      }
      if (source.startsWith('<!--', at)) {
        const end = source.indexOf('-->', at + 4);
        if (end < 0) fail('unterminated comment');
        children.push({ kind: 'comment', text: source.slice(at + 4, end) });
        at = end + 3;
        continue;
      }
      if (source[at] === '<') {
        children.push(element());
        continue;
      }
      const next = source.indexOf('<', at);
      const end = next < 0 ? source.length : next;
      children.push({ kind: 'text', text: source.slice(at, end) });
      at = end;
    }
  };
  skipSpace();
  if (source.startsWith('<?xml', at)) {
    const end = source.indexOf('?>', at);
    if (end < 0) fail('unterminated XML declaration');
    at = end + 2;
    skipSpace();
  }
  if (source[at] !== '<') fail('an element was expected');
  const root = element();
  skipSpace();
  if (at !== source.length) fail('text after the root element');
  return root;
}

export function serializeArch(node: ArchNode): string {
  if (node.kind === 'text') return node.text;
  if (node.kind === 'comment') return `<!--${node.text}-->`;
  const attrs = node.attrs.map(([key, value]) => ` ${key}="${value.replaceAll('"', '&quot;')}"`).join('');
  if (node.children.length === 0) return `<${node.tag}${attrs}/>`;
  return `<${node.tag}${attrs}>${node.children.map(serializeArch).join('')}</${node.tag}>`;
}

export function attr(element: ArchElement, key: string): string | undefined {
  return element.attrs.find(([name]) => name === key)?.[1];
}

function setAttr(element: ArchElement, key: string, value: string | undefined): void {
  const index = element.attrs.findIndex(([name]) => name === key);
  if (value === undefined) {
    if (index >= 0) element.attrs.splice(index, 1);
  } else if (index >= 0) element.attrs[index] = [key, value];
  else element.attrs.push([key, value]);
}

function elements(nodes: readonly ArchNode[]): ArchElement[] {
  return nodes.filter((node): node is ArchElement => node.kind === 'element');
}

/** Every element under `root` (itself included), in document order. */
export function descendants(root: ArchElement): ArchElement[] {
  const found: ArchElement[] = [root];
  for (const child of elements(root.children)) found.push(...descendants(child));
  return found;
}

interface XPathStep {
  descendant: boolean;
  tag: string;
  predicates: [string, string][];
}

const STEP = /^(\*|[A-Za-z_][\w.:-]*)((?:\[@[\w.:-]+=(?:'[^']*'|"[^"]*")\])*)$/;
const PREDICATE = /\[@([\w.:-]+)=(?:'([^']*)'|"([^"]*)")\]/g;

function parseXPath(expr: string): XPathStep[] {
  const steps: XPathStep[] = [];
  let rest = expr.trim();
  if (!rest.startsWith('/')) rest = `//${rest}`;
  while (rest.length > 0) {
    const descendant = rest.startsWith('//');
    rest = rest.slice(descendant ? 2 : 1);
    const next = rest.search(/\/(?![^[]*\])/);
    const text = next < 0 ? rest : rest.slice(0, next);
    rest = next < 0 ? '' : rest.slice(next);
    const match = STEP.exec(text);
    if (!match?.[1]) throw new ArchError(`Unsupported XPath expression ${expr}`);
    const predicates = [...(match[2] ?? '').matchAll(PREDICATE)].map(
      (found) => [found[1] ?? '', found[2] ?? found[3] ?? ''] as [string, string],
    );
    steps.push({ descendant, tag: match[1], predicates });
  }
  return steps;
}

function stepMatches(element: ArchElement, step: XPathStep): boolean {
  return (
    (step.tag === '*' || element.tag === step.tag) &&
    step.predicates.every(([key, value]) => attr(element, key) === value)
  );
}

/** The first element `expr` selects in the tree rooted at `root` (the document node is above root). */
export function selectFirst(root: ArchElement, expr: string): ArchElement | undefined {
  let current: ArchElement[] = [];
  parseXPath(expr).forEach((step, index) => {
    const pool =
      index === 0
        ? step.descendant
          ? descendants(root)
          : [root]
        : current.flatMap((node) => (step.descendant ? descendants(node).slice(1) : elements(node.children)));
    current = pool.filter((node) => stepMatches(node, step));
  });
  return current[0];
}

/** A located element `<field name="x" position="after">`: same tag, the same attributes. */
function locateBySpec(root: ArchElement, spec: ArchElement): ArchElement | undefined {
  const wanted = spec.attrs.filter(([key]) => key !== 'position');
  return descendants(root).find(
    (node) => node.tag === spec.tag && wanted.every(([key, value]) => attr(node, key) === value),
  );
}

function parentOf(root: ArchElement, target: ArchElement): ArchElement | undefined {
  for (const node of descendants(root)) if (node.children.includes(target)) return node;
  return undefined;
}

function specLabel(spec: ArchElement): string {
  return serializeArch({ ...spec, children: [] }).replace(/\/>$/, '>');
}

/** Applies an inheriting arch (`<data>` of specs, or one spec) to a copy of `base`. */
export function applyInheritance(base: ArchElement, inheriting: ArchElement): ArchElement {
  let root = structuredClone(base);
  const specs = inheriting.tag === 'data' ? elements(inheriting.children) : [inheriting];
  for (const spec of specs) {
    const target =
      spec.tag === 'xpath' ? selectFirst(root, attr(spec, 'expr') ?? '') : locateBySpec(root, spec);
    if (!target) throw new ArchError(`Element '${specLabel(spec)}' cannot be located in parent view`);
    const position = attr(spec, 'position') ?? 'inside';
    const content = structuredClone(spec.children);
    const parent = parentOf(root, target);
    switch (position) {
      case 'inside':
        target.children.push(...content);
        break;
      case 'after':
      case 'before':
      case 'replace': {
        if (!parent) {
          if (position !== 'replace') throw new ArchError(`Cannot put elements ${position} the root node`);
          const [replacement] = elements(content);
          if (!replacement) throw new ArchError('Cannot remove the root node of a view');
          root = replacement;
          break;
        }
        const index = parent.children.indexOf(target);
        if (position === 'after') parent.children.splice(index + 1, 0, ...content);
        else if (position === 'before') parent.children.splice(index, 0, ...content);
        else parent.children.splice(index, 1, ...content);
        break;
      }
      case 'attributes':
        for (const change of elements(spec.children)) {
          if (change.tag !== 'attribute') continue;
          const key = attr(change, 'name') ?? '';
          const text = change.children.map((node) => (node.kind === 'text' ? node.text : '')).join('');
          setAttr(target, key, text === '' ? undefined : text);
        }
        break;
      default:
        throw new ArchError(`Invalid position attribute: '${position}'`);
    }
  }
  return root;
}

/** Names of the `<field>` elements of the view itself (not those of nested sub-views). */
export function fieldNamesOf(root: ArchElement): string[] {
  const names: string[] = [];
  const walk = (node: ArchElement, nested: boolean) => {
    for (const child of elements(node.children)) {
      if (child.tag === 'field') {
        const name = attr(child, 'name');
        if (name && !nested) names.push(name);
        walk(child, true);
      } else walk(child, nested);
    }
  };
  if (root.tag === 'field') {
    const name = attr(root, 'name');
    if (name) names.push(name);
  }
  walk(root, false);
  return [...new Set(names)];
}
