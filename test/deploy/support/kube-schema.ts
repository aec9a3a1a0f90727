import path from 'node:path';
import ts from 'typescript';
import { describe, type K8sObject, type Problem } from './k8s.js';
import { isRecord, repoRoot } from './repo.js';

/**
 * Schema validation with the kubernetes-models packages: Kubernetes itself, Istio, KEDA and
 * CloudNativePG. Two layers:
 *  1. the package's JSON-schema validator (`new Model(obj).validate()`): types, enums,
 *     required fields, formats;
 *  2. unknown fields: those validators accept any extra property (a misspelt `readinesProbe`
 *     passes), while the API server with strict field validation refuses it. The packages'
 *     TypeScript declarations list every field, so the objects are type-checked as object
 *     literals, whose excess-property check reports fields the schema does not have.
 * A kind no package knows is a problem, never a pass.
 */
const PACKAGES: { matches: (group: string) => boolean; name: string }[] = [
  { matches: (group) => group.endsWith('.istio.io'), name: '@kubernetes-models/istio' },
  { matches: (group) => group === 'keda.sh' || group === 'eventing.keda.sh', name: '@kubernetes-models/keda' },
  { matches: (group) => group.endsWith('.cnpg.io'), name: '@kubernetes-models/cloudnative-pg' },
  { matches: (group) => group === '' || !group.includes('.') || group.endsWith('.k8s.io'), name: 'kubernetes-models' },
];

interface ModelClass {
  new (data: unknown): { validate(): void };
  apiVersion?: unknown;
  kind?: unknown;
}

interface ResolvedModel {
  modelClass: ModelClass;
  modulePath: string;
}

function modulePathFor(object: K8sObject): string | undefined {
  const [group, version] = object.apiVersion.includes('/') ? object.apiVersion.split('/') : ['', object.apiVersion];
  if (!version || !/^[A-Za-z][A-Za-z0-9]*$/.test(object.kind)) return undefined;
  const pkg = PACKAGES.find((candidate) => candidate.matches(group ?? ''));
  if (!pkg) return undefined;
  return `${pkg.name}/${group ? `${group}/` : ''}${version}/${object.kind}`;
}

const resolved = new Map<string, ResolvedModel | undefined>();

async function resolveModel(object: K8sObject): Promise<ResolvedModel | undefined> {
  const key = `${object.apiVersion}/${object.kind}`;
  if (resolved.has(key)) return resolved.get(key);
  let result: ResolvedModel | undefined;
  const modulePath = modulePathFor(object);
  if (modulePath) {
    try {
      const module = (await import(modulePath)) as Record<string, unknown>;
      const candidate = module[object.kind] as ModelClass | undefined;
      // Only top-level kinds carry apiVersion/kind; nested types (e.g. DeploymentSpec) do not.
      if (typeof candidate === 'function' && candidate.apiVersion === object.apiVersion && candidate.kind === object.kind) {
        result = { modelClass: candidate, modulePath };
      }
    } catch {
      result = undefined;
    }
  }
  resolved.set(key, result);
  return result;
}

/** Layer 1: every object has a known kind and passes its JSON schema. */
export async function validateSchemas(objects: K8sObject[]): Promise<Problem[]> {
  const problems: Problem[] = [];
  for (const object of objects) {
    const model = await resolveModel(object);
    if (!model) {
      problems.push({ object: describe(object), message: `unknown kind: no schema for ${object.apiVersion} ${object.kind}` });
      continue;
    }
    try {
      new model.modelClass(structuredClone(object)).validate();
    } catch (error) {
      problems.push({ object: describe(object), message: `schema: ${schemaErrorText(error)}` });
    }
  }
  return problems;
}

function schemaErrorText(error: unknown): string {
  if (isRecord(error) && Array.isArray(error.errors)) {
    return error.errors
      .filter(isRecord)
      .map((e) => `${String(e.instancePath || '/')} ${String(e.message ?? e.keyword)}`)
      .join('; ');
  }
  return error instanceof Error ? error.message : String(error);
}

/** Layer 2: no field the schema does not define (one TypeScript program for all objects). */
export async function findUnknownFields(objects: K8sObject[]): Promise<Problem[]> {
  const problems: Problem[] = [];
  const lines: string[] = [];
  const owners: K8sObject[] = [];
  for (const object of objects) {
    const model = await resolveModel(object);
    if (!model) continue; // reported by validateSchemas
    const index = owners.length;
    owners.push(object);
    lines.push(`import type { I${object.kind} as T${index} } from ${JSON.stringify(model.modulePath)};`);
  }
  owners.forEach((object, index) => lines.push(`export const o${index}: T${index} = ${JSON.stringify(object)};`));
  const firstObjectLine = owners.length; // one import line per object precedes the objects

  const fileName = path.join(repoRoot, '__rendered_manifests__.ts');
  const source = lines.join('\n');
  const options: ts.CompilerOptions = {
    strict: true,
    noEmit: true,
    skipLibCheck: true,
    target: ts.ScriptTarget.ES2022,
    module: ts.ModuleKind.NodeNext,
    moduleResolution: ts.ModuleResolutionKind.NodeNext,
    types: [],
  };
  const host = ts.createCompilerHost(options);
  const readSourceFile = host.getSourceFile.bind(host);
  host.getSourceFile = (name, languageVersion, ...rest) =>
    name === fileName ? ts.createSourceFile(name, source, languageVersion) : readSourceFile(name, languageVersion, ...rest);
  const fileExists = host.fileExists.bind(host);
  host.fileExists = (name) => name === fileName || fileExists(name);
  const program = ts.createProgram([fileName], options, host);

  for (const diagnostic of ts.getPreEmitDiagnostics(program)) {
    const text = ts.flattenDiagnosticMessageText(diagnostic.messageText, '\n');
    if (diagnostic.file?.fileName !== fileName || diagnostic.start === undefined) {
      problems.push({ object: '(type check)', message: text });
      continue;
    }
    const { line } = diagnostic.file.getLineAndCharacterOfPosition(diagnostic.start);
    const owner = owners[line - firstObjectLine];
    const field = /'"?([^'"]+)"?' does not exist in type/.exec(text)?.[1];
    problems.push({
      object: owner ? describe(owner) : '(type check)',
      message: field ? `unknown field "${field}"` : `type: ${text.split('\n')[0]}`,
    });
  }
  return problems;
}

export async function validateManifests(objects: K8sObject[]): Promise<Problem[]> {
  return [...(await validateSchemas(objects)), ...(await findUnknownFields(objects))];
}
