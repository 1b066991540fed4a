/**
 * `status.css`, the status page's style sheet (serve it as `text/css`): plain, small, readable
 * in light and dark mode; the HA states and power states have their colours.
 */
export const STATUS_PAGE_STYLE = `/* hafence status page */
:root { color-scheme: light dark; --ok: #1a7f37; --warn: #9a6700; --bad: #cf222e; --dim: #6e7781; }
body { font: 14px/1.4 system-ui, sans-serif; margin: 0 1.5rem 2rem; }
header { display: flex; align-items: baseline; gap: 1rem; flex-wrap: wrap; }
h1 { font-size: 1.3rem; margin: 0.8rem 0; }
h2 { font-size: 1.05rem; margin: 1.2rem 0 0.3rem; }
.server, .meta, .rel, .type, .none { color: var(--dim); }
#live { font-weight: 600; }
#live[data-live="live"] { color: var(--ok); }
#live[data-live="reconnecting"] { color: var(--warn); }
#observe-only { border: 2px solid var(--warn); padding: 0.5rem 0.8rem; margin: 0.5rem 0; }
table { border-collapse: collapse; width: 100%; }
th, td { text-align: left; padding: 0.2rem 0.6rem 0.2rem 0; border-bottom: 1px solid rgba(128, 128, 128, 0.25); }
thead th { font-weight: 600; color: var(--dim); }
tr[data-state="AVAILABLE"] td.state, .pstate[data-state="ACTIVE"] { color: var(--ok); }
tr[data-state="SUSPECT"] td.state, tr[data-state="CHECKING"] td.state, tr[data-state="DEGRADED"] td.state,
tr[data-state="RECOVERING"] td.state, tr[data-state="INITIALIZING"] td.state { color: var(--warn); font-weight: 600; }
tr[data-state="FENCING"] td.state, tr[data-state="FENCED"] td.state,
tr[data-state="FAILED"] td.state { color: var(--bad); font-weight: 600; }
tr[data-power="OFF"] td.power { color: var(--bad); }
tr[data-power="UNKNOWN"] td.power { color: var(--warn); }
tr[data-halted="true"] td { color: var(--bad); }
ol { list-style: none; padding: 0; margin: 0; max-height: 24rem; overflow-y: auto; }
li { padding: 0.1rem 0; }
li[data-level="warning"] code { color: var(--warn); }
li[data-level="critical"] code { color: var(--bad); }
`;
