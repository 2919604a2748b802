/** The pool job of experiment 7: the CPU part of a request, run off the loop's thread. */
export { burn } from './programming-models.burn.js';
