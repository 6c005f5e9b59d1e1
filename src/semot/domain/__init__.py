"""Pure rules of the chat domain: no sockets, no SQL, no clocks of their own."""
