import { CfnElement, Stack } from 'aws-cdk-lib';
import type { IConstruct } from 'constructs';

/** The part of a CloudFormation template the cycle check reads. */
export interface TemplateResources {
  readonly Resources?: Readonly<Record<string, unknown>>;
}

/** One reference from a resource to another: where it is written and how. */
export interface ResourceReference {
  readonly from: string;
  readonly to: string;
  /** Where in `from` the reference is, e.g. `UpdatePolicy.CodeDeployLambdaAliasUpdate.DeploymentGroupName (Ref)`. */
  readonly at: string;
}

/** A reference cycle: each reference's `to` is the next one's `from`, and the last leads back to the first. */
export type ReferenceCycle = readonly ResourceReference[];

/**
 * The reference cycles among a template's resources. CloudFormation creates a resource only after
 * every resource it refers to, so a cycle is refused before anything is created
 * ("Circular dependency between resources").
 *
 * A reference is a `Ref`, an `Fn::GetAtt` (`[id, attribute]` or `"id.attribute"`), a `${id}` or
 * `${id.attribute}` in an `Fn::Sub` (`${!literal}`, pseudo parameters and the `Fn::Sub` variables
 * excepted), or a `DependsOn`, anywhere in the resource: properties, `UpdatePolicy`,
 * `CreationPolicy` and metadata alike. Only references to resources of the same template count.
 *
 * @see https://docs.aws.amazon.com/AWSCloudFormation/latest/UserGuide/troubleshooting.html#troubleshooting-errors-dependency-error
 * @returns one cycle per strongly connected group of resources, each starting at its
 *   alphabetically first resource; [] when the resources form a DAG
 */
export function findReferenceCycles(template: TemplateResources): ReferenceCycle[] {
  const resources = template.Resources ?? {};
  const ids = new Set(Object.keys(resources));
  const edges = new Map<string, Map<string, ResourceReference>>();
  for (const [from, resource] of Object.entries(resources)) {
    const out = new Map<string, ResourceReference>();
    for (const reference of referencesOf(from, resource, ids)) {
      if (!out.has(reference.to)) out.set(reference.to, reference);
    }
    edges.set(from, out);
  }
  return stronglyConnected(edges)
    .filter((group) => group.length > 1 || edges.get(group[0]!)!.has(group[0]!))
    .map((group) => cycleThrough(group, edges));
}

/** `A → B → A`, then one line per reference saying where it is written. */
export function describeCycle(cycle: ReferenceCycle): string {
  const path = [...cycle.map((r) => r.from), cycle[0]!.from].join(' → ');
  const how = cycle.map((r) => `${r.from} refers to ${r.to} at ${r.at}`).join('; ');
  return `${path} (${how})`;
}

/**
 * Fails synthesis of `stack` when its resources refer to each other in a cycle, naming the
 * resources on it, so a template CloudFormation would refuse is never written. Adding it twice to
 * one stack adds it once.
 */
export function addReferenceCycleCheck(stack: Stack): void {
  if (checkedStacks.has(stack)) return;
  checkedStacks.add(stack);
  stack.node.addValidation({
    validate: () =>
      findReferenceCycles(resourcesOf(stack)).map(
        (cycle) =>
          `CloudFormation would refuse this stack: its resources refer to each other in a cycle: ${describeCycle(cycle)}`,
      ),
  });
}

const checkedStacks = new WeakSet<Stack>();

/** The resolved `Resources` of `stack`, as its template will hold them (nested stacks excluded). */
function resourcesOf(stack: Stack): TemplateResources {
  const resources: Record<string, unknown> = {};
  for (const child of stack.node.findAll()) {
    if (!isCfnElementOf(stack, child)) continue;
    const fragment = stack.resolve(child._toCloudFormation()) as TemplateResources;
    Object.assign(resources, fragment.Resources ?? {});
  }
  return { Resources: resources };
}

function isCfnElementOf(stack: Stack, construct: IConstruct): construct is CfnElement {
  return CfnElement.isCfnElement(construct) && Stack.of(construct) === stack;
}

function* referencesOf(
  from: string,
  resource: unknown,
  ids: ReadonlySet<string>,
): Generator<ResourceReference> {
  if (!isObject(resource)) return;
  const dependsOn = resource.DependsOn;
  for (const to of typeof dependsOn === 'string' ? [dependsOn] : arrayOf(dependsOn)) {
    if (typeof to === 'string' && ids.has(to)) yield { from, to, at: 'DependsOn' };
  }
  for (const [key, value] of Object.entries(resource)) {
    if (key === 'DependsOn' || key === 'Type' || key === 'Condition') continue;
    for (const [to, at] of intrinsicReferences(value, key)) {
      if (ids.has(to)) yield { from, to, at };
    }
  }
}

/** `[logicalId, where]` of every intrinsic reference in `value`. */
function* intrinsicReferences(value: unknown, path: string): Generator<[string, string]> {
  if (Array.isArray(value)) {
    for (const [i, item] of value.entries()) yield* intrinsicReferences(item, `${path}[${i}]`);
    return;
  }
  if (!isObject(value)) return;
  for (const [key, child] of Object.entries(value)) {
    if (key === 'Ref' && typeof child === 'string') {
      yield [child, `${path} (Ref)`];
    } else if (key === 'Fn::GetAtt') {
      const target = Array.isArray(child) ? child[0] : String(child).split('.')[0];
      if (typeof target === 'string') yield [target, `${path} (Fn::GetAtt)`];
      if (Array.isArray(child)) yield* intrinsicReferences(child.slice(1), `${path}.Fn::GetAtt`);
    } else if (key === 'Fn::Sub') {
      const [text, variables] = Array.isArray(child) ? child : [child, {}];
      const own = new Set(isObject(variables) ? Object.keys(variables) : []);
      if (typeof text === 'string') {
        for (const name of substitutedNames(text)) {
          if (!own.has(name)) yield [name.split('.')[0]!, `${path} (Fn::Sub)`];
        }
      }
      yield* intrinsicReferences(variables, `${path}.Fn::Sub`);
    } else {
      yield* intrinsicReferences(child, `${path}.${key}`);
    }
  }
}

/** Names in `${…}` placeholders of an `Fn::Sub` string, without `${!literal}` and pseudo parameters. */
function substitutedNames(text: string): string[] {
  return [...text.matchAll(/\$\{([^}]*)\}/g)]
    .map((match) => match[1]!.trim())
    .filter((name) => name !== '' && !name.startsWith('!') && !name.startsWith('AWS::'));
}

/** Tarjan's algorithm, iterative so a long chain of resources cannot overflow the stack. */
function stronglyConnected(edges: ReadonlyMap<string, ReadonlyMap<string, unknown>>): string[][] {
  const index = new Map<string, number>();
  const low = new Map<string, number>();
  const onStack = new Set<string>();
  const stack: string[] = [];
  const groups: string[][] = [];
  let next = 0;
  for (const root of [...edges.keys()].sort()) {
    if (index.has(root)) continue;
    const work: Array<{ node: string; targets: Iterator<string> }> = [];
    const enter = (node: string): void => {
      index.set(node, next);
      low.set(node, next);
      next++;
      stack.push(node);
      onStack.add(node);
      work.push({ node, targets: [...edges.get(node)!.keys()].sort()[Symbol.iterator]() });
    };
    enter(root);
    while (work.length > 0) {
      const frame = work[work.length - 1]!;
      const step = frame.targets.next();
      if (!step.done) {
        const target = step.value;
        if (!index.has(target)) enter(target);
        else if (onStack.has(target)) {
          low.set(frame.node, Math.min(low.get(frame.node)!, index.get(target)!));
        }
        continue;
      }
      work.pop();
      const parent = work[work.length - 1];
      if (parent) low.set(parent.node, Math.min(low.get(parent.node)!, low.get(frame.node)!));
      if (low.get(frame.node) === index.get(frame.node)) {
        const group: string[] = [];
        let member: string;
        do {
          member = stack.pop()!;
          onStack.delete(member);
          group.push(member);
        } while (member !== frame.node);
        groups.push(group.sort());
      }
    }
  }
  return groups.sort((a, b) => a[0]!.localeCompare(b[0]!));
}

/** A shortest cycle through the group's first resource, staying inside the group. */
function cycleThrough(
  group: readonly string[],
  edges: ReadonlyMap<string, ReadonlyMap<string, ResourceReference>>,
): ReferenceCycle {
  const start = group[0]!;
  const members = new Set(group);
  const cameFrom = new Map<string, ResourceReference>();
  const queue = [start];
  for (let i = 0; i < queue.length; i++) {
    const node = queue[i]!;
    for (const [to, reference] of [...edges.get(node)!.entries()].sort(([a], [b]) =>
      a.localeCompare(b),
    )) {
      if (!members.has(to)) continue;
      if (to === start) {
        const cycle = [reference];
        for (let at = node; at !== start; at = cameFrom.get(at)!.from) {
          cycle.unshift(cameFrom.get(at)!);
        }
        return cycle;
      }
      if (!cameFrom.has(to)) {
        cameFrom.set(to, reference);
        queue.push(to);
      }
    }
  }
  throw new Error(`no cycle through ${start} in its strongly connected group`);
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function arrayOf(value: unknown): unknown[] {
  return Array.isArray(value) ? value : [];
}
