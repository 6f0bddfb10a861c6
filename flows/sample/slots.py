"""Slot fillers, hashtags, personal posts and Spanish posts for the sample study.

A template such as ``"Nice review of {topic} {link}"`` is filled slot by slot: a name in
``SLOTS`` draws one of its values; ``{link}``, ``{paperlink}``, ``{bloglink}`` and
``{newslink}`` become t.co links to invented ``example.*`` pages; ``{@peer}``,
``{@senior}``, ``{@journal}``, ``{@society}`` and ``{@any}`` become @mentions of study
accounts. Synonym slots (``great``, ``check``, ``thanks`` ...) keep one template from
always producing the same words.
"""

SLOTS = {
    "topic": ["sepsis recognition", "DKA management", "hyponatremia", "reading chest X-rays",
              "ECG basics", "acid-base disorders", "antibiotic stewardship", "delirium prevention",
              "heart failure admissions", "fever in infants", "anticoagulation reversal",
              "the murmur exam", "insulin dosing", "COPD exacerbations", "syncope workups",
              "stroke codes", "post-op pain control", "HIV PrEP", "asthma action plans",
              "advance care planning", "breaking bad news", "point-of-care ultrasound",
              "the neuro exam", "fluid resuscitation", "AKI workups", "chest pain triage",
              "depression screening", "prenatal care", "sickle cell pain crises",
              "Ebola preparedness", "measles exposure workups", "flu season triage",
              "opioid prescribing", "skin of color dermatology", "pediatric dehydration"],
    "specialty": ["pediatrics", "EM", "internal medicine", "general surgery", "psychiatry",
                  "dermatology", "OB/GYN", "family medicine", "neurology", "radiology",
                  "anesthesia", "cardiology", "ID", "palliative care", "ortho"],
    "article": ["Near-peer teaching on the wards: a mixed-methods study",
                "Twitter journal clubs and resident engagement",
                "Burnout in the clerkship year: a multi-site survey",
                "Bedside ultrasound for first-year students",
                "What patients wish trainees knew about shared decisions",
                "A flipped classroom for acid-base physiology",
                "Implicit bias training in the preclinical years",
                "Feedback that sticks: a trial of structured debriefs",
                "Night float, sleep and handoff errors",
                "Student-run free clinics and continuity of care",
                "Open-access teaching resources in emergency medicine",
                "Teaching high-value care to interns",
                "Medical students as health advocates: a curriculum",
                "How residents introduce women speakers at grand rounds",
                "Professionalism policies for social media at medical schools",
                "Peer coaching for new interns", "Learning from near misses on the night shift"],
    "journal": ["the Journal of Fictional Medical Education", "JFME", "Annals of Hypothetical Medicine",
                "Invented Pediatrics", "the Placeholder Journal of Surgery"],
    "conf": ["the SFME annual meeting", "the Northeast Student Research Day",
             "the Hospital Medicine Teaching Retreat", "the Global Health Student Forum",
             "the Simulation in Medicine Symposium", "the regional clerkship educators summit"],
    "resource": ["a free ECG interpretation course", "an acid-base practice set",
                 "a podcast episode on {topic}", "a one-page guide to {topic}",
                 "a video walkthrough of the cardiac exam", "a question bank for the {specialty} shelf",
                 "an open-access chapter on {topic}", "a slide deck on {topic}",
                 "a great infographic on {topic}", "a 10-minute explainer on {topic}"],
    "tip": ["spaced repetition with flashcards", "doing 40 practice questions a day",
            "writing one-line summaries after every patient", "teaching it to a classmate",
            "reading about every patient the night of admission", "a daily 20-minute review block",
            "drawing the pathways by hand", "explaining it out loud while walking to the hospital",
            "keeping a running list of things I got wrong", "pre-rounding with a checklist"],
    "project": ["a QI project on discharge summaries", "a study of handoff quality",
                "a survey of student wellness", "a chart review on sepsis timing",
                "a curriculum on health equity", "a pilot of peer tutoring",
                "a review of patient education handouts", "a project on readmissions",
                "a case report for {conf}", "a study of vaccine uptake in our clinic"],
    "policy": ["Medicaid expansion", "the flu vaccine", "student debt relief", "measles vaccination",
               "gun violence as a public-health issue", "health equity in our city",
               "paid parental leave for residents", "funding for residency positions",
               "access to naloxone", "tobacco taxes", "mental health parity",
               "clean needle programs", "school nutrition"],
    "group": ["the nurses on my unit", "our clinical pharmacist", "a respiratory therapist",
              "my patient's daughter", "the interpreters at our clinic", "a social worker on our team",
              "a chaplain I met on nights", "our unit clerk", "a community health worker"],
    "place": ["a rural clinic", "a refugee health clinic", "a district hospital abroad",
              "our student-run free clinic", "a tribal health center", "a mobile van clinic"],
    "rotation": ["surgery", "peds", "OB", "medicine", "psych", "neuro", "family med", "EM"],
    "exam": ["Step 1", "Step 2 CK", "the medicine shelf", "the surgery shelf", "Step 2 CS",
             "the peds shelf", "my first OSCE"],
    "great": ["great", "excellent", "terrific", "really useful", "superb", "so helpful", "solid"],
    "check": ["Check out", "Worth your time:", "Highly recommend", "Bookmark this:", "Don't miss"],
    "thanks": ["Thank you", "Thanks so much", "Many thanks", "Grateful", "Thanks"],
    "drink": ["coffee", "cold brew", "chai", "green tea", "a triple espresso"],
    "pet": ["my dog", "the cat", "our puppy", "my roommate's cat"],
    "weekend": ["a long hike", "farmers market", "brunch with friends", "a movie marathon",
                "laundry (glamorous)", "a 10k"],
    "sport": ["football", "the hockey game", "the playoffs", "my rec soccer league", "the marathon"],
    "food": ["pumpkin bread", "pho", "homemade pizza", "tacos", "my mom's lentil soup"],
    "emoji": ["🎉", "🙌", "👏", "💪", "☕️", "😅", "🤓", "❤️", "👍"],
    "when": ["this morning", "tonight", "today", "this week", "on rounds today"],
}

# Weighted hashtag pools by theme; a post gets none, one or two.
HASHTAGS = {
    "information": [("FOAMed", 4), ("MedEd", 4), ("MedTwitter", 3), ("MedStudentTwitter", 1)],
    "collaboration": [("MedEd", 3), ("MedEdResearch", 2), ("QI", 1), ("MedTwitter", 2)],
    "perspectives": [("MedTwitter", 3), ("PatientCentered", 1), ("GlobalHealth", 2), ("MedEd", 1)],
    "community": [("MedStudentTwitter", 4), ("MedTwitter", 3), ("WomenInMedicine", 2)],
    "advocacy": [("HealthPolicy", 3), ("HealthEquity", 2), ("VaccinesWork", 1), ("MedTwitter", 2)],
    "digital_footprint": [("MedEd", 2), ("SoMe", 2), ("MedTwitter", 2)],
    "equalization": [("MedEd", 3), ("MedTwitter", 2), ("MedStudentTwitter", 1)],
    "mentorship": [("MedEd", 2), ("WomenInMedicine", 1), ("MedStudentTwitter", 2)],
    "coaching": [("MedEd", 3), ("FOAMed", 1)],
    "advice_seeking": [("MedStudentTwitter", 4), ("MedTwitter", 2)],
    "reassurance": [("MedStudentTwitter", 3), ("MedTwitter", 2)],
    "resource_sharing": [("FOAMed", 3), ("MedEd", 3)],
    "burnout_work_life": [("MedStudentTwitter", 2), ("Wellness", 2), ("MedTwitter", 2)],
    "personal": [("MedStudentTwitter", 1), ("MedTwitter", 1)],
}
SPECIALTY_TAGS = {"dermatology": "DermTwitter", "general surgery": "ILookLikeASurgeon",
                  "EM": "FOAMed"}

# Off-topic posts: no codes.
PERSONAL = [
    "Third {drink} of the day and it's not even noon", "Weekend plans: {weekend}. That's it. That's the plan.",
    "{pet} has decided my notes make an excellent bed", "Can't believe I stayed up for {sport} {emoji}",
    "Made {food} and ate half of it standing over the stove", "Finally did laundry. Adulting level: expert",
    "Rainy day, warm {drink}, good book. Perfect.", "Anyone else's apartment freezing? Radiator, please work",
    "Is it too early for holiday music? Asking for a friend", "{pet} vs. the vacuum: round 12",
    "Long run this morning, legs are jelly", "Podcast recommendations for a 40-minute commute? Not medical pls",
    "Whoever brought donuts to the workroom: you are a hero", "That first sip of {drink} >>>",
    "Happy Friday everyone! {emoji}", "Sunday meal prep complete. Future me says thanks.",
    "Watching {sport} with my roommates and yelling at the TV like it helps",
    "My plant is still alive. Small victories.", "Snow day!!! ❄️", "New glasses, who dis",
    "Phone at 3%, charger at home, day just started. Pray for me",
    "My sister just got engaged!! So happy for her {emoji}", "Trying to learn guitar. My neighbors are patient people.",
    "Farmers market haul: apples, apples, more apples 🍎", "If you need me I'll be napping",
    "The cafeteria had {food} today and honestly it made my week",
    "Called my grandma today. She asked if I'm a doctor yet. Not yet, Grandma.",
    "Accidentally wore two different shoes to campus. Nobody noticed. Or everyone was too polite.",
    "Just parallel parked on the first try and nobody saw it", "Ok who else is rewatching the whole series again",
]
PERSONAL_REPLIES = [
    "haha same", "This is so relatable", "lol {emoji}", "Ha! Love this", "Omg yes",
    "Sending good vibes", "Enjoy!!", "Pics or it didn't happen", "Hahaha I feel this",
    "Nice!", "Go team!", "Rest up!", "Happy Friday to you too!", "{pet} would approve",
]

# A few themes also come in Spanish (lang "es"); posts of other themes stay in English.
SPANISH = {
    "information": ["Excelente repaso sobre {topic} para estudiantes {link}",
                    "Recurso gratuito para aprender ECG en español {link}",
                    "Buen artículo sobre cómo comunicar malas noticias a pacientes {link}"],
    "perspectives": ["Hoy una paciente me enseñó más que cualquier libro. Escuchar es medicina.",
                     "Atender en español cambia toda la consulta. La confianza se nota.",
                     "Trabajar con intérpretes me abrió los ojos sobre el acceso a la salud."],
    "community": ["Qué bonito encontrar tanta gente de medicina por aquí {emoji}",
                  "Gracias a todos por el apoyo esta semana, de verdad.",
                  "Estudiantes latinos en medicina: ¡aquí estamos! #MedStudentTwitter"],
    "advocacy": ["Las vacunas salvan vidas. Punto. #VaccinesWork",
                 "El acceso a la salud no debería depender del idioma ni del código postal."],
    "burnout_work_life": ["Semana larguísima. Hoy toca descansar sin culpa.",
                "Recordatorio: dormir también es parte del estudio."],
    "reassurance": ["Si hoy fue un mal día en el hospital, no estás sola. Mañana es otro día."],
    "personal": ["Domingo de café y familia ☕️", "Mi perro no entiende que tengo examen mañana",
                 "Hoy toca cocinar arroz con gandules, nada de estudiar por una hora"],
}

# Extra sentences that turn ~3% of posts into long (note) posts of more than 280 characters.
ELABORATIONS = [
    "I keep coming back to this because nobody told us about it in the first two years, and it matters on every single admission.",
    "Longer thought, bear with me: the best teachers I've had made space for questions that sounded silly, and that is exactly how I learned the most.",
    "What struck me most was how small the change was, and how much difference it made for patients and for the team that week.",
    "If you're a student reading this, save it somewhere; I wish someone had handed it to me before my first clinical rotation.",
    "We talked about it for a long time after rounds, and I think we all left a little more thoughtful about how we practice.",
    "There's no perfect answer here, but the conversation is worth having, especially with people outside medicine.",
    "Honestly the hardest part is not the knowledge, it's learning when to ask for help and trusting that asking is part of the job.",
    "Writing this down so I remember it in ten years when I'm the one teaching at the bedside.",
]

SOURCES = {
    "student": [("Twitter for iPhone", 6), ("Twitter Web Client", 3), ("Twitter for Android", 2)],
    "resident": [("Twitter for iPhone", 6), ("Twitter for Android", 3), ("Twitter Web Client", 1)],
    "faculty": [("Twitter Web Client", 4), ("Twitter for iPhone", 4), ("TweetDeck", 2)],
    "health_professional": [("Twitter for Android", 3), ("Twitter for iPhone", 2)],
    "organization": [("Hootsuite", 4), ("TweetDeck", 3), ("Twitter Web Client", 2)],
    "other": [("Twitter Web Client", 3), ("Twitter for iPhone", 2)],
}
CHAT_SOURCE = "TweetChat"

RESOURCE_HOSTS = ["learn.example.org", "foamcast.example.com", "ecgweekly.example.net",
                  "meded-notes.example.org", "clinicalpearls.example.com"]
NEWS_HOSTS = ["news.example.com", "healthdaily.example.net", "citypaper.example.org"]
SLUG_WORDS = ["teaching", "wards", "sepsis", "feedback", "students", "equity", "ecg", "bedside",
              "vaccines", "wellness", "interns", "policy", "ultrasound", "handoffs", "rounds"]

# Organizations post in their own voice (journal, society); keys are themes.
ORG_POSTS = {
    "information": ["New issue out now: \"{article}\" and more {paperlink}",
                    "Just published: \"{article}\" {paperlink}",
                    "Most-read this month: \"{article}\" {paperlink}",
                    "Early view: {topic} education in the clerkship year {paperlink}"],
    "community": ["Join our community for #MedEdChat this Tuesday at 9pm ET!",
                  "Welcome to all the new members who joined us at {conf}!",
                  "We love seeing students and faculty connect here. Keep it up!"],
    "advocacy": ["Our statement on {policy} and medical education {newslink}",
                 "Trainees' voices matter on {policy}. Read our position paper {paperlink}"],
    "collaboration": ["Call for abstracts: {conf}. Student submissions encouraged! {link}",
                      "Looking for reviewers, including residents and students. Apply here {link}"],
    "digital_footprint": ["Our new guide to social media professionalism for trainees {link}"],
    "resource_sharing": ["Free for members and non-members: our teaching toolkit on {topic} {link}"],
}
