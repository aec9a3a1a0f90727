/** Where the dashboard lives; the app mounts the whole module at `/admin`. */
export const DASHBOARD_MOUNT = '/admin';
export const BOARD_PATH = `${DASHBOARD_MOUNT}/queues`;
export const SIGN_IN_PATH = `${DASHBOARD_MOUNT}/sign-in`;
export const SIGN_OUT_PATH = `${DASHBOARD_MOUNT}/sign-out`;
/** The board's JSON API, as opposed to its pages and static assets. */
export const BOARD_API_PATH = `${BOARD_PATH}/api/`;
