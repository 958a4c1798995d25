// Side-effect import of the default stylesheet: nothing to type, but the subpath resolves.
export {};
