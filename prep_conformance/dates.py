"""Month names as a Mexican reader writes dates ("2 de junio de 2024"): one list for every module that
writes or reads a date in words (reports, the watch, the memoria, the rules). Pure data."""

MONTHS_ES = ("enero", "febrero", "marzo", "abril", "mayo", "junio", "julio", "agosto", "septiembre",
             "octubre", "noviembre", "diciembre")
MONTHS_EN = ("January", "February", "March", "April", "May", "June", "July", "August", "September",
             "October", "November", "December")
