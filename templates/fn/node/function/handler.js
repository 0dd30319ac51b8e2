'use strict';

/** Called for each request: returns the response body (here the request's, back). */
module.exports = async (event, context) => {
  return context.status(200).succeed(event.body);
};
