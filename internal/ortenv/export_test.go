package ortenv

// AtLeast is atLeast for the external test package.
var AtLeast = atLeast
