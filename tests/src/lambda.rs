//! A local implementation of the Lambda Runtime API, to run the built functions as Lambda does.
