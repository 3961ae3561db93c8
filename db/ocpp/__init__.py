"""What the gateway records of OCPP traffic: station records, transactions, configuration
keys, local lists, reservations, certificates, authorization.
"""
