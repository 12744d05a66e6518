// One way to hook a node class: chain a callback after the method already there (the
// host's, another extension's), instead of saving and re-assigning the prototype by hand.
// Pure JS with no frontend import, so tests/js can test it with node --test.

/**
 * Replace `object[property]` by a function that calls the original (if any) and then
 * `callback`, both with the same `this` and arguments; returns the original's result
 * (a hook chained later never changes what the host gets back).
 */
export function chainCallback(object, property, callback) {
  const original = object[property];
  object[property] = function (...args) {
    const result = original?.apply(this, args);
    callback.apply(this, args);
    return result;
  };
}
