/** Swagger: the header fields of a paginated list answer (page/per_page or cursor). */
export const LIST_HEADERS = {
  'X-Total-Count': { description: 'Rows in the whole list (matching the filters); only with page/per_page, never with cursor', schema: { type: 'integer' } },
  Link: {
    description:
      'RFC 8288 links. page/per_page: first, prev, next, last. cursor: first (an empty cursor) and, unless this is the last page, next (the cursor after its last row).',
    schema: { type: 'string' },
  },
};
