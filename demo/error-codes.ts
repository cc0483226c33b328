import { defineCodes } from '../core/errors/code-registry.ts';

export const demoCodes = defineCodes('DEMO', {
  ZTMESH_DEMO_PORT_IN_USE: 'A port the local demo mesh needs is already taken (stop the other process or pass --port-offset).',
  ZTMESH_DEMO_BAD_STATE_DIR: 'The demo state directory exists and is not empty, or cannot be created.',
  ZTMESH_DEMO_STEP_FAILED: 'A set-up step of the demo (ca init, ca bundle, ca token create) exited with an error.',
  ZTMESH_DEMO_CHILD_EXITED: 'A demo child process (the CA or a sidecar) exited while the demo was starting or running.',
  ZTMESH_DEMO_NOT_READY: 'A demo child process did not become ready in time.',
});
