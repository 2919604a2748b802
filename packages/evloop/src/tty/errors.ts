/**
 * Errors of terminal input (docs/ui.md lists them; docs/errors.md points there).
 * @example
 * try { openTerminal(loop) } catch (err) { if (err.code === 'ERR_NOT_A_TTY') console.error('run me in a terminal') }
 */
export const TTY_CODES = {
  /** openTerminal on an fd that is not a terminal (stdin redirected from a file or a pipe). */
  NOT_A_TTY: 'ERR_NOT_A_TTY',
} as const;
