/**
 * Just enough of a Dockerfile parser to check a build without an engine: instructions with
 * their flags and arguments, grouped into stages, with build-argument defaults resolved in FROM.
 */
export interface Instruction {
  keyword: string;
  flags: Record<string, string>;
  args: string[];
  /** The exec-form JSON array, when the instruction used one. */
  json?: string[];
  raw: string;
}

export interface Stage {
  name: string | undefined;
  base: string;
  instructions: Instruction[];
}

export function parseDockerfile(text: string): Stage[] {
  const logicalLines: string[] = [];
  let pending = '';
  for (const line of text.split('\n')) {
    if (/^\s*#/.test(line)) continue; // comments (and parser directives), also inside continuations
    const continued = /\\\s*$/.test(line);
    pending += `${line.replace(/\\\s*$/, '')} `;
    if (!continued) {
      if (pending.trim()) logicalLines.push(pending.trim());
      pending = '';
    }
  }
  if (pending.trim()) logicalLines.push(pending.trim());

  const globalArgs = new Map<string, string>();
  const stages: Stage[] = [];
  for (const raw of logicalLines) {
    const instruction = parseInstruction(raw);
    if (instruction.keyword === 'FROM') {
      const [image = '', as, name] = instruction.args;
      stages.push({
        base: image.replace(/\$\{?([A-Za-z_][A-Za-z0-9_]*)\}?/g, (whole, arg: string) => globalArgs.get(arg) ?? whole),
        name: as?.toUpperCase() === 'AS' ? name : undefined,
        instructions: [],
      });
    } else if (stages.length === 0 && instruction.keyword === 'ARG') {
      const [name, value = ''] = (instruction.args[0] ?? '').split('=');
      if (name) globalArgs.set(name, value);
    } else {
      stages.at(-1)?.instructions.push(instruction);
    }
  }
  return stages;
}

function parseInstruction(raw: string): Instruction {
  const keyword = raw.split(/\s+/)[0] ?? '';
  let body = raw.slice(keyword.length).trim();
  const flags: Record<string, string> = {};
  for (let flag = /^--([a-z-]+)(?:=(\S+))?\s*/.exec(body); flag; flag = /^--([a-z-]+)(?:=(\S+))?\s*/.exec(body)) {
    flags[flag[1] ?? ''] = flag[2] ?? 'true';
    body = body.slice(flag[0].length);
  }
  let json: string[] | undefined;
  if (body.startsWith('[')) {
    try {
      const parsed: unknown = JSON.parse(body);
      if (Array.isArray(parsed) && parsed.every((item) => typeof item === 'string')) json = parsed;
    } catch {
      json = undefined;
    }
  }
  return { keyword: keyword.toUpperCase(), flags, args: json ?? body.split(/\s+/).filter(Boolean), json, raw };
}

export function stageNamed(stages: Stage[], name: string): Stage | undefined {
  return stages.find((stage) => stage.name === name);
}

export function instructions(stage: Stage, keyword: string): Instruction[] {
  return stage.instructions.filter((instruction) => instruction.keyword === keyword);
}

/** The last WORKDIR of a stage, following its base stages. */
export function workdir(stages: Stage[], stage: Stage): string {
  const own = instructions(stage, 'WORKDIR').at(-1)?.args[0];
  if (own) return own;
  const parent = stageNamed(stages, stage.base);
  return parent ? workdir(stages, parent) : '/';
}

/** A stage's instructions including those it inherits from earlier stages it is built FROM. */
export function lineage(stages: Stage[], stage: Stage): Instruction[] {
  const parent = stageNamed(stages, stage.base);
  return [...(parent ? lineage(stages, parent) : []), ...stage.instructions];
}

/**
 * .dockerignore semantics (moby/patternmatcher): patterns are cleaned paths with * ? and **;
 * a path is excluded when it or a parent directory matches; the last matching rule wins, and a
 * leading ! re-includes.
 */
export function dockerignore(text: string): (file: string) => boolean {
  const rules = text
    .split('\n')
    .map((line) => line.trim())
    .filter((line) => line !== '' && !line.startsWith('#'))
    .map((line) => {
      const include = line.startsWith('!');
      const pattern = (include ? line.slice(1) : line).trim().replace(/^\/+/, '').replace(/\/+$/, '');
      return { include, regex: globToRegExp(pattern) };
    });
  return (file: string) => {
    const parts = file.split('/');
    const candidates = parts.map((_, index) => parts.slice(0, index + 1).join('/'));
    let excluded = false;
    for (const rule of rules) {
      if (candidates.some((candidate) => rule.regex.test(candidate))) excluded = !rule.include;
    }
    return excluded;
  };
}

function globToRegExp(pattern: string): RegExp {
  let source = '';
  for (let i = 0; i < pattern.length; i++) {
    const char = pattern[i] ?? '';
    if (pattern.startsWith('**/', i)) {
      source += '(?:.*/)?';
      i += 2;
    } else if (pattern.startsWith('**', i)) {
      source += '.*';
      i += 1;
    } else if (char === '*') source += '[^/]*';
    else if (char === '?') source += '[^/]';
    else source += char.replace(/[.+^${}()|[\]\\]/g, '\\$&');
  }
  return new RegExp(`^${source}$`);
}
