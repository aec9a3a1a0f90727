/**
 * A structural JSON schema for skaffold.yaml (apiVersion skaffold/v4beta13), written for this
 * repository. Skaffold publishes its real schema only in its own repository and binary
 * (`skaffold schema get`); no npm package ships it, tests run offline, and files copied from
 * other repositories are not committed here. So this schema is deliberately limited: it covers
 * the sections and fields this skaffold.yaml uses, with the same names, types and
 * `additionalProperties: false` as skaffold's own definitions, so a misspelt or misplaced key
 * fails. Fields skaffold supports but this file does not use are not listed: adding one means
 * extending this schema (check it against skaffold's reference first).
 */
const stringArray = { type: 'array', items: { type: 'string' } };

const hostHook = {
  type: 'object',
  additionalProperties: false,
  required: ['command'],
  properties: { command: stringArray, os: stringArray, dir: { type: 'string' } },
};

const deployHooks = {
  type: 'object',
  additionalProperties: false,
  properties: {
    before: { type: 'array', items: { type: 'object', additionalProperties: false, properties: { host: hostHook } } },
    after: { type: 'array', items: { type: 'object', additionalProperties: false, properties: { host: hostHook } } },
  },
};

const artifact = {
  type: 'object',
  additionalProperties: false,
  required: ['image'],
  properties: {
    image: { type: 'string', pattern: '^[a-z0-9][a-z0-9._/-]*$' },
    context: { type: 'string' },
    docker: {
      type: 'object',
      additionalProperties: false,
      properties: {
        dockerfile: { type: 'string' },
        target: { type: 'string' },
        buildArgs: { type: 'object', additionalProperties: { type: 'string' } },
        cacheFrom: stringArray,
      },
    },
    sync: {
      type: 'object',
      additionalProperties: false,
      properties: {
        manual: {
          type: 'array',
          items: {
            type: 'object',
            additionalProperties: false,
            required: ['src', 'dest'],
            properties: { src: { type: 'string' }, dest: { type: 'string' }, strip: { type: 'string' } },
          },
        },
        infer: stringArray,
      },
    },
  },
};

const build = {
  type: 'object',
  additionalProperties: false,
  properties: {
    artifacts: { type: 'array', items: artifact },
    tagPolicy: {
      type: 'object',
      additionalProperties: false,
      minProperties: 1,
      maxProperties: 1,
      properties: {
        gitCommit: {
          type: 'object',
          additionalProperties: false,
          properties: {
            variant: { enum: ['Tags', 'CommitSha', 'AbbrevCommitSha', 'TreeSha', 'AbbrevTreeSha'] },
            prefix: { type: 'string' },
            ignoreChanges: { type: 'boolean' },
          },
        },
        inputDigest: { type: 'object', additionalProperties: false },
        sha256: { type: 'object', additionalProperties: false },
      },
    },
    local: {
      type: 'object',
      additionalProperties: false,
      properties: {
        push: { type: 'boolean' },
        useBuildkit: { type: 'boolean' },
        useDockerCLI: { type: 'boolean' },
        tryImportMissing: { type: 'boolean' },
        concurrency: { type: 'integer', minimum: 0 },
      },
    },
  },
};

const manifests = {
  type: 'object',
  additionalProperties: false,
  properties: {
    kustomize: {
      type: 'object',
      additionalProperties: false,
      properties: { paths: { ...stringArray, minItems: 1 }, buildArgs: stringArray },
    },
  },
};

const deploy = {
  type: 'object',
  additionalProperties: false,
  properties: {
    kubectl: {
      type: 'object',
      additionalProperties: false,
      properties: {
        defaultNamespace: { type: 'string' },
        flags: {
          type: 'object',
          additionalProperties: false,
          properties: { global: stringArray, apply: stringArray, delete: stringArray, disableValidation: { type: 'boolean' } },
        },
        hooks: deployHooks,
      },
    },
    statusCheck: { type: 'boolean' },
    statusCheckDeadlineSeconds: { type: 'integer', minimum: 1 },
    tolerateFailuresUntilDeadline: { type: 'boolean' },
    kubeContext: { type: 'string' },
  },
};

const portForward = {
  type: 'array',
  items: {
    type: 'object',
    additionalProperties: false,
    required: ['resourceType', 'resourceName', 'port'],
    properties: {
      resourceType: { enum: ['service', 'pod', 'deployment', 'statefulset', 'replicaset', 'daemonset', 'job', 'cronjob'] },
      resourceName: { type: 'string' },
      namespace: { type: 'string' },
      port: { type: ['integer', 'string'] },
      address: { type: 'string' },
      localPort: { type: 'integer' },
    },
  },
};

const verify = {
  type: 'array',
  items: {
    type: 'object',
    additionalProperties: false,
    required: ['name', 'container'],
    properties: {
      name: { type: 'string' },
      timeout: { type: 'integer', minimum: 1 },
      container: {
        type: 'object',
        additionalProperties: false,
        required: ['name', 'image'],
        properties: {
          name: { type: 'string' },
          image: { type: 'string' },
          command: stringArray,
          args: stringArray,
          env: {
            type: 'array',
            items: {
              type: 'object',
              additionalProperties: false,
              required: ['name'],
              properties: { name: { type: 'string', pattern: '^[A-Za-z_][A-Za-z0-9_]*$' }, value: { type: 'string' } },
            },
          },
        },
      },
      executionMode: {
        type: 'object',
        additionalProperties: false,
        properties: {
          local: { type: 'object', additionalProperties: false, properties: { useLocalImages: { type: 'boolean' } } },
          kubernetesCluster: {
            type: 'object',
            additionalProperties: false,
            properties: { overrides: { type: 'string' }, jobManifestPath: { type: 'string' } },
          },
        },
      },
    },
  },
};

const profile = {
  type: 'object',
  additionalProperties: false,
  required: ['name'],
  properties: {
    name: { type: 'string' },
    activation: {
      type: 'array',
      items: {
        type: 'object',
        additionalProperties: false,
        properties: { env: { type: 'string' }, kubeContext: { type: 'string' }, command: { type: 'string' } },
      },
    },
    requiresAllActivations: { type: 'boolean' },
    build,
    manifests,
    deploy,
    portForward,
    verify,
    patches: {
      type: 'array',
      items: {
        type: 'object',
        additionalProperties: false,
        required: ['path'],
        properties: {
          op: { enum: ['add', 'remove', 'replace', 'move', 'copy', 'test'] },
          path: { type: 'string' },
          from: { type: 'string' },
          value: {},
        },
      },
    },
  },
};

export const skaffoldConfigSchema = {
  $schema: 'http://json-schema.org/draft-07/schema#',
  type: 'object',
  additionalProperties: false,
  required: ['apiVersion', 'kind'],
  properties: {
    apiVersion: { const: 'skaffold/v4beta13' },
    kind: { const: 'Config' },
    metadata: {
      type: 'object',
      additionalProperties: false,
      properties: { name: { type: 'string' }, labels: { type: 'object' }, annotations: { type: 'object' } },
    },
    requires: {
      type: 'array',
      items: {
        type: 'object',
        additionalProperties: false,
        properties: {
          configs: stringArray,
          path: { type: 'string' },
          activeProfiles: {
            type: 'array',
            items: {
              type: 'object',
              additionalProperties: false,
              required: ['name'],
              properties: { name: { type: 'string' }, activatedBy: stringArray },
            },
          },
        },
      },
    },
    build,
    manifests,
    deploy,
    portForward,
    verify,
    profiles: { type: 'array', items: profile },
  },
};
