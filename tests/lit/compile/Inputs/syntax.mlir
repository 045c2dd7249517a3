// Not valid lf: the parser's error is reported at its position.
lf.policy @syntax {
  lf.bogus
}
