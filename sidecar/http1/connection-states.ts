/** The states of an `Http1Connection` (plain numbers: compared on every event of the hot path). */
export const S_HEAD = 0; // reading a request head (or idle between requests)
export const S_CONNECTING = 1; // head parsed, waiting for an upstream connection
export const S_EXCHANGE = 2; // request body and/or response flowing
export const S_TUNNEL = 3; // after a 101: raw bytes both ways
export const S_CLOSED = 4;
export const S_ROUTING = 5; // head parsed, the router's decision pending (an end-user token being verified)
export const S_BUFFERING = 6; // routed to a validated route: its body is read whole and checked before connecting
