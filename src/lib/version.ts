/** Berth's version: what `berth version` prints for the client and berthd reports for the server. */
export const BERTH_VERSION = '0.1.0'
