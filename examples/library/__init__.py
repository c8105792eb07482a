"""A lending library: the smallest whole domain, from commands to a search index.

`domain` is the write side (a `Domain` the command service serves), `projection` the read
side (one pure fold and its index mapping), `datacontract.yaml` the data product, and
`plugin` what settings point at to run it next to commerce. See "Your own domain" in the
README.
"""
